"""Ingest: find the corpus's files, read each with its format's reader, cut paragraphs."""

from __future__ import annotations

from retrieval.ingest.cutter import parse_text
from retrieval.ingest.files import (
    corpus_fingerprint,
    find_corpus_files,
    load_documents,
    read_document,
    scan_corpus,
)
from retrieval.ingest.paragraphs import (
    PARSER_VERSION,
    SECTION_SEP,
    Document,
    Paragraph,
    corpus_hash,
    iter_paragraphs,
)
from retrieval.ingest.readers import MAX_FILE_BYTES, Source, register

__all__ = [
    "MAX_FILE_BYTES",
    "PARSER_VERSION",
    "SECTION_SEP",
    "Document",
    "Paragraph",
    "Source",
    "corpus_fingerprint",
    "corpus_hash",
    "find_corpus_files",
    "iter_paragraphs",
    "load_documents",
    "parse_text",
    "read_document",
    "register",
    "scan_corpus",
]
