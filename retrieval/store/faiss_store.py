"""The dense half's vector store: a FAISS index whose type follows the corpus size."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from retrieval.errors import UsageError
from retrieval.store.paragraphs import Rows

logger = logging.getLogger(__name__)

VECTORS = "vectors.faiss"
INDEX_TYPES = ("auto", "flat", "hnsw", "ivf")
# Exact search costs ~0.1-0.2 ms per thousand paragraphs on one core (17 ms at 100k on a busy
# machine, most of a hybrid query); beyond this HNSW answers in under 1 ms, and re-scoring its
# candidates exactly keeps Recall@10 at 0.998-1.000 (benchmarks/scale.py).
FLAT_MAX_ROWS = 50_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
# Faiss wants at least 39 training points per IVF cluster.
IVF_POINTS_PER_LIST = 39
IVF_NPROBE = 48
# An approximate index proposes this many candidates, re-scored exactly (see FaissStore).
REFINE_CANDIDATES = 64


class VectorStore(Protocol):
    """What the searcher needs of a vector store: top-k inner-product search by row."""

    kind: str

    @property
    def ntotal(self) -> int: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (scores, rows), each of shape (len(queries), k); missing rows are -1."""
        ...


def choose_index_type(rows: int, requested: str = "auto") -> str:
    """Return the FAISS index type for a corpus of `rows` paragraphs."""
    if requested not in INDEX_TYPES:
        raise UsageError(
            f"unknown index type {requested!r}; choose one of {', '.join(INDEX_TYPES)}"
        )
    if requested != "auto":
        return requested
    return "flat" if rows <= FLAT_MAX_ROWS else "hnsw"


class FaissStore:
    """A FAISS inner-product index over L2-normalised vectors; row i is paragraph i."""

    def __init__(self, index: Any, kind: str, exact: Rows | None = None) -> None:
        self.index = index
        self.kind = kind
        # The full-precision vectors (read from disk as needed), to re-score an approximate index's
        # candidates: its 8-bit vectors reorder near-ties, which alone caps Recall@10 at ~0.976.
        self.exact = exact if kind != "flat" else None
        self._tune()

    def _tune(self) -> None:
        import faiss

        # Search-time parameters are not all kept in the index file: set them on every load.
        if self.kind == "hnsw":
            hnsw: Any = faiss.downcast_index(self.index)
            hnsw.hnsw.efSearch = HNSW_EF_SEARCH
        elif self.kind == "ivf":
            faiss.extract_index_ivf(self.index).nprobe = IVF_NPROBE

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str) -> FaissStore:
        """Build an index of the given type ("flat", "hnsw", "ivf") over the vectors."""
        import faiss

        n, dim = vectors.shape
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # building does use every core
        index: Any
        sq8: Any = faiss.ScalarQuantizer.QT_8bit
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            # 8-bit scalar quantisation: a quarter of the memory of float32 vectors, and the
            # ranking of unit vectors is unchanged to within ~1e-3 in cosine.
            index = faiss.IndexHNSWSQ(dim, sq8, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.train(vectors)
        elif kind == "ivf":
            lists = max(1, min(int(4 * math.sqrt(n)), n // IVF_POINTS_PER_LIST))
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, dim, lists, sq8, faiss.METRIC_INNER_PRODUCT
            )
            index.train(vectors)
        else:
            raise UsageError(f"unknown index type {kind!r}; choose one of {', '.join(INDEX_TYPES)}")
        if n:
            index.add(vectors)
        faiss.omp_set_num_threads(1)  # back to searching (see load)
        return cls(index, kind, vectors)

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, self.ntotal))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if self.exact is None:
            return self.index.search(queries, k)
        wide = min(self.ntotal, max(2 * k, REFINE_CANDIDATES))
        _, candidates = self.index.search(queries, wide)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        rows = np.full((len(queries), k), -1, dtype=np.int64)
        for i, found in enumerate(candidates):
            found = found[found >= 0]
            exact = np.asarray(self.exact[np.sort(found)], dtype=np.float32) @ queries[i]
            order = np.argsort(-exact)[:k]
            scores[i, : len(order)] = exact[order]
            rows[i, : len(order)] = np.sort(found)[order]
        return scores, rows

    def save(self, directory: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(directory / VECTORS))

    @classmethod
    def load(cls, directory: Path, kind: str, exact: Rows | None = None) -> FaissStore:
        import faiss

        # One question at a time is searched: OpenMP threads for it cost more in wake-ups than
        # they save, and on a busy 2-core machine made a 20k search 20x slower (1 ms -> 24 ms).
        faiss.omp_set_num_threads(1)
        # Memory-mapped: pages are read when a search touches them, stay in the page cache
        # (reclaimable, not private), and bot workers on one machine share a single copy.
        flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY
        return cls(faiss.read_index(str(directory / VECTORS), flags), kind, exact)
