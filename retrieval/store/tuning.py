"""Index types and their parameters, the same for every vector store (FAISS, Milvus)."""

from __future__ import annotations

import math

from retrieval.errors import UsageError

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


def choose_index_type(rows: int, requested: str = "auto") -> str:
    """Return the index type for a corpus of `rows` paragraphs."""
    if requested not in INDEX_TYPES:
        raise UsageError(
            f"unknown index type {requested!r}; choose one of {', '.join(INDEX_TYPES)}"
        )
    if requested != "auto":
        return requested
    return "flat" if rows <= FLAT_MAX_ROWS else "hnsw"


def ivf_lists(rows: int) -> int:
    """Return how many IVF clusters to train for `rows` vectors: ~4 sqrt(n), each 39 or more."""
    return max(1, min(int(4 * math.sqrt(rows)), rows // IVF_POINTS_PER_LIST))
