"""The Milvus backend: builds go into new collections, loads check the collection's record."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from retrieval.errors import IndexStateError
from retrieval.ingest import Paragraph
from retrieval.store.base import BuildSpec
from retrieval.store.manifest import Manifest
from retrieval.store.milvus.build import build_collection, index_kind
from retrieval.store.milvus.connection import MilvusConnection
from retrieval.store.milvus.schema import check_record, make_ready
from retrieval.store.milvus.search import MilvusStore
from retrieval.store.milvus.state import read_state
from retrieval.store.paragraphs import Rows


class MilvusBackend(MilvusConnection):
    """A connection to one Milvus deployment (a server or a Milvus Lite file) and its builds."""

    def index_kind(self, rows: int, requested: str) -> str:
        """Return the index type for a corpus of `rows` paragraphs on this deployment."""
        return index_kind(self.is_lite, rows, requested)

    def build(
        self,
        directory: Path,
        vectors: np.ndarray,
        paragraphs: Sequence[Paragraph],
        spec: BuildSpec,
    ) -> MilvusStore:
        """Write the vectors and paragraphs into a new collection (see build_collection)."""
        return build_collection(self, directory, vectors, paragraphs, spec)

    def load(self, directory: Path, manifest: Manifest, exact: Rows | None = None) -> MilvusStore:
        """Open the collection an index directory was built into, checking its record.

        Raises:
            IndexStateError: the collection is gone, or holds another build or model.
        """
        state = read_state(directory)
        if not state.get("collection") or state.get("uri") != self.shown_uri:
            raise IndexStateError(
                f"the index at {directory} was not built in Milvus at {self.shown_uri}"
            )
        name = str(state["collection"])
        check_record(self, name, manifest)
        make_ready(self, name, manifest.index_type, manifest.count)
        return MilvusStore(self, name, manifest.index_type, manifest.count)
