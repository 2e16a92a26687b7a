"""The format readers: one module per file format, chosen by the file's suffix.

A reader turns a file into a `Source`: Markdown-flavoured text (``#`` headings, blank lines
between blocks, a form feed between pages) that `retrieval.ingest.cutter` cuts into
paragraphs. Adding a format is one module that calls `register`, plus its name in
`FORMAT_MODULES`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from retrieval.registry import Registry

# The modules that register readers, imported the first time a reader is looked up.
FORMAT_MODULES = (
    "retrieval.ingest.text",
    "retrieval.ingest.pdf",
    "retrieval.ingest.html",
    "retrieval.ingest.docx",
    "retrieval.ingest.epub",
)
# A file this large is almost certainly not prose meant for paragraph retrieval.
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    """A document as its reader understood it, ready to be cut into paragraphs."""

    text: str
    title: str | None = None
    paged: bool = False  # form feeds in `text` separate pages 1, 2, ...
    line_paragraphs: bool = False  # a line ending a sentence ends its paragraph (plain text)
    fences: bool = False  # Markdown: a code fence's lines are text, never headings


Reader = Callable[[Path], Source]

# Keyed by file suffix, lower case with the dot: ``.pdf``.
READERS: Registry[Reader] = Registry("format")
register = READERS.register
_loaded = False


def _load() -> None:
    global _loaded
    if not _loaded:
        for module in FORMAT_MODULES:
            importlib.import_module(module)
        _loaded = True


def reader_for(path: Path) -> Reader | None:
    """Return the reader for a file, or None when its format is not supported."""
    _load()
    return READERS.find(path.suffix.lower())


def supported_suffixes() -> tuple[str, ...]:
    """Return the suffixes some reader handles, sorted."""
    _load()
    return tuple(sorted(READERS.names))
