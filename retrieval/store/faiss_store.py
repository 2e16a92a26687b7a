"""The FAISS backend: vectors in an index file whose type follows the corpus size."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import UsageError
from retrieval.ingest import Paragraph
from retrieval.progress import Say, say_nothing
from retrieval.store.base import BuildSpec
from retrieval.store.manifest import Manifest
from retrieval.store.paragraphs import ParagraphStore, Rows
from retrieval.store.tuning import (
    HNSW_EF_CONSTRUCTION,
    HNSW_EF_SEARCH,
    HNSW_M,
    INDEX_TYPES,
    IVF_NPROBE,
    choose_index_type,
    ivf_lists,
)

VECTORS = "vectors.faiss"
# An approximate index proposes this many candidates, re-scored exactly (see FaissStore).
REFINE_CANDIDATES = 64


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
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, dim, ivf_lists(n), sq8, faiss.METRIC_INNER_PRODUCT
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
        """Return how many vectors it holds."""
        return int(self.index.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (scores, rows) of the top-k inner products, each (len(queries), k)."""
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
        """Write the index file into the index directory."""
        import faiss

        faiss.write_index(self.index, str(directory / VECTORS))

    def paragraphs(self, directory: Path) -> ParagraphStore:
        """Return the paragraphs of the index directory (FAISS keeps none of its own)."""
        return ParagraphStore(directory)

    def discard(self) -> None:
        """Do nothing: a FAISS build writes only into the index directory."""

    @classmethod
    def load(cls, directory: Path, kind: str, exact: Rows | None = None) -> FaissStore:
        """Open the index file of an index directory, memory-mapped."""
        import faiss

        # One question at a time is searched: OpenMP threads for it cost more in wake-ups than
        # they save, and on a busy 2-core machine made a 20k search 20x slower (1 ms -> 24 ms).
        faiss.omp_set_num_threads(1)
        # Memory-mapped: pages are read when a search touches them, stay in the page cache
        # (reclaimable, not private), and bot workers on one machine share a single copy.
        flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY
        return cls(faiss.read_index(str(directory / VECTORS), flags), kind, exact)


class FaissBackend:
    """FAISS index files in the index directory: no server, nothing to connect to."""

    @classmethod
    def connect(cls, uri: str = "", token: str = "", say: Say = say_nothing) -> FaissBackend:
        """Return the backend (a FAISS index needs no address, token or messages)."""
        return cls()

    def build(
        self,
        directory: Path,
        vectors: np.ndarray,
        paragraphs: Sequence[Paragraph],
        spec: BuildSpec,
    ) -> FaissStore:
        """Build the index type asked for (or chosen by size) over the vectors."""
        return FaissStore.build(vectors, choose_index_type(len(vectors), spec.index_type))

    def load(self, directory: Path, manifest: Manifest, exact: Rows) -> FaissStore:
        """Open the index file, re-scoring an approximate index's candidates with `exact`."""
        return FaissStore.load(directory, manifest.index_type, exact)

    def close(self) -> None:
        """Do nothing: there is no connection."""
