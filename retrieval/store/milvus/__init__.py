"""The Milvus backend: one collection per build, searched like the FAISS index file."""

from __future__ import annotations

from retrieval.store.milvus.backend import MilvusBackend
from retrieval.store.milvus.errors import MilvusError, display_uri
from retrieval.store.milvus.paragraphs import MilvusParagraphs
from retrieval.store.milvus.search import MAX_TOPK, MilvusStore

__all__ = [
    "MAX_TOPK",
    "MilvusBackend",
    "MilvusError",
    "MilvusParagraphs",
    "MilvusStore",
    "display_uri",
]
