"""What the engine needs of an embedding model, whichever runtime runs it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

ENCODE_BATCH = 16


class Encoder(Protocol):
    """What the engine needs of an embedding model."""

    model: str

    @property
    def dim(self) -> int: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Return the rows scaled to length 1, as contiguous float32."""
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12))
