"""The contract of a vector store: a backend builds and loads stores; a store searches and saves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from retrieval.ingest import Paragraph
from retrieval.store.manifest import Manifest
from retrieval.store.paragraphs import Rows


@dataclass(frozen=True)
class BuildSpec:
    """What a build is of: the model and corpus the vectors come from, the index type asked."""

    model: str
    corpus_hash: str
    index_type: str = "auto"


class VectorStore(Protocol):
    """One built set of vectors, row i = paragraph i of the index: search, save, paragraphs."""

    # The index type it holds ("flat", "hnsw", "ivf"), recorded in the manifest.
    kind: str

    @property
    def ntotal(self) -> int:
        """Return how many vectors it holds."""
        ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (scores, rows) of the top-k inner products, each (len(queries), k); -1: none."""
        ...

    def save(self, directory: Path) -> None:
        """Write what the index directory keeps of this store (its file, or where it lives)."""
        ...

    def paragraphs(self, directory: Path) -> Sequence[Paragraph]:
        """Return the paragraphs it serves by row (from the index directory or its own copy)."""
        ...

    def discard(self) -> None:
        """Remove what the build made outside the index directory; called when it fails."""
        ...


class StoreBackend(Protocol):
    """Where vectors are kept (FAISS files, a Milvus deployment): builds and loads stores.

    A backend is made by `retrieval.store.registry.open_backend(name, ...)`, which calls the
    class's `connect(uri, token, say)`.
    """

    def build(
        self,
        directory: Path,
        vectors: np.ndarray,
        paragraphs: Sequence[Paragraph],
        spec: BuildSpec,
    ) -> VectorStore:
        """Build a store over the vectors (row i = paragraphs[i]) for the index `directory`."""
        ...

    def load(self, directory: Path, manifest: Manifest, exact: Rows) -> VectorStore:
        """Open the store an index directory was built with (`exact`: its stored vectors).

        Raises:
            IndexStateError: the store is gone or does not match the manifest.
        """
        ...

    def close(self) -> None:
        """Release connections and locks; the stores it made are not used after this."""
        ...
