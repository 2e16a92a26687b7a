"""One built collection as a vector store: top-k inner-product search by row, like FAISS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from retrieval.store.milvus.connection import MilvusConnection
from retrieval.store.milvus.paragraphs import MilvusParagraphs
from retrieval.store.milvus.schema import drop_collection
from retrieval.store.milvus.state import write_state
from retrieval.store.tuning import HNSW_EF_SEARCH, IVF_NPROBE

# Milvus caps a search's top-k (and a query's limit + offset) at 16,384.
MAX_TOPK = 16_384
SEARCH_BATCH_QUERIES = 256
FLOAT_MIN = float(np.finfo(np.float32).min)


class MilvusStore:
    """One built collection: top-k inner-product search by row, like FaissStore."""

    def __init__(self, backend: MilvusConnection, name: str, kind: str, count: int) -> None:
        self.backend = backend
        self.collection = name
        self.kind = kind
        self._count = count
        # What the index directory notes of this build (see state.py), set by the build.
        self.state: dict[str, object] = {}
        self._paragraphs: MilvusParagraphs | None = None

    @property
    def ntotal(self) -> int:
        """Return how many vectors it holds."""
        return self._count

    def _search_params(self, k: int) -> dict[str, Any]:
        # The metric must be the index's own: a server refuses a search in another one.
        if self.kind == "hnsw":
            return {"metric_type": "IP", "params": {"ef": max(HNSW_EF_SEARCH, k)}}
        if self.kind == "ivf":
            return {"metric_type": "IP", "params": {"nprobe": IVF_NPROBE}}
        return {"metric_type": "IP", "params": {}}

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (scores, rows), each of shape (len(queries), k); missing rows are -1."""
        k = max(1, min(k, self.ntotal, MAX_TOPK))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        scores = np.full((len(queries), k), FLOAT_MIN, dtype=np.float32)
        rows = np.full((len(queries), k), -1, dtype=np.int64)
        for start in range(0, len(queries), SEARCH_BATCH_QUERIES):
            batch = queries[start : start + SEARCH_BATCH_QUERIES]
            for i, found in enumerate(self._search_batch(batch, k)):
                for j, hit in enumerate(found[:k]):
                    rows[start + i, j] = int(hit["id"])
                    scores[start + i, j] = float(hit["distance"])
        return scores, rows

    def _search_batch(self, batch: np.ndarray, k: int) -> list[list[dict[str, Any]]]:
        return self.backend.read(
            "search",
            self.collection,
            self.backend.client.search,
            data=batch.tolist(),
            anns_field="vector",
            limit=k,
            # The primary key (the row) is all a ranking needs; an empty list would mean
            # every field, vectors too, to Milvus Lite 3.
            output_fields=["id"],
            search_params=self._search_params(k),
            # A published build is never written again and was flushed before it was
            # loaded, so a bounded-staleness read sees all of it without waiting.
            consistency_level="Bounded",
        )

    def save(self, directory: Path) -> None:
        """Write which collection (on which server) holds this build into the index directory."""
        write_state(directory, {"collection": self.collection, **self.state})

    def paragraphs(self, directory: Path | None = None) -> MilvusParagraphs:
        """Return the paragraphs of this build, read from the collection's fields."""
        if self._paragraphs is None:
            self._paragraphs = MilvusParagraphs(self.backend, self.collection, self._count)
        return self._paragraphs

    def discard(self) -> None:
        """Drop the collection of a build no index directory names."""
        drop_collection(self.backend, self.collection)
