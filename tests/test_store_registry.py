"""Tests for retrieval.store.registry: backends by name, and a new store plugged in by one entry."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from retrieval.config import BACKENDS
from retrieval.errors import UsageError
from retrieval.ingest import Paragraph, load_documents
from retrieval.progress import Say
from retrieval.search import Searcher
from retrieval.store.base import BuildSpec, StoreBackend
from retrieval.store.faiss_store import FaissBackend
from retrieval.store.index import build_index, load_index
from retrieval.store.manifest import Manifest
from retrieval.store.paragraphs import ParagraphStore, Rows
from retrieval.store.registry import STORES, open_backend
from tests.conftest import FakeEncoder


def quiet(_: str) -> None:
    pass


def test_the_registered_backends_are_those_settings_accept() -> None:
    assert STORES.names == BACKENDS


def test_an_unknown_backend_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown backend 'pinecone'; choose from faiss, milvus"):
        open_backend("pinecone")


def test_faiss_is_the_default() -> None:
    assert isinstance(open_backend(), FaissBackend)


class ExactStore:
    """A store a newcomer might add: exact search over the vectors in a .npy file."""

    kind = "flat"

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = np.asarray(vectors, dtype=np.float32)

    @property
    def ntotal(self) -> int:
        return len(self.vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores = queries @ self.vectors.T
        rows = np.argsort(-scores, axis=1)[:, :k]
        return np.take_along_axis(scores, rows, axis=1), rows

    def save(self, directory: Path) -> None:
        np.save(directory / "exact.npy", self.vectors, allow_pickle=False)

    def paragraphs(self, directory: Path) -> Sequence[Paragraph]:
        return ParagraphStore(directory)

    def discard(self) -> None:
        pass


class ExactBackend:
    @classmethod
    def connect(cls, uri: str, token: str, say: Say) -> ExactBackend:
        return cls()

    def build(
        self, directory: Path, vectors: np.ndarray, paragraphs: Sequence[Paragraph], spec: BuildSpec
    ) -> ExactStore:
        return ExactStore(vectors)

    def load(self, directory: Path, manifest: Manifest, exact: Rows) -> ExactStore:
        return ExactStore(np.load(directory / "exact.npy"))

    def close(self) -> None:
        pass


def test_a_new_store_is_one_class_and_one_registration(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(STORES._entries, "exact", ExactBackend.connect)
    backend: StoreBackend = open_backend("exact")
    documents, _ = load_documents([corpus])
    encoder = FakeEncoder()
    build_index(tmp_path / "idx", documents, encoder, quiet, False, backend=backend)
    faiss = build_index(tmp_path / "faiss", documents, encoder, quiet, False)
    loaded = load_index(tmp_path / "idx", backend)
    assert isinstance(loaded.vectors, ExactStore)
    assert (tmp_path / "idx" / "exact.npy").is_file()
    for question in ("青年路什么时候停水", "AED 配置多少台"):
        found = Searcher(loaded, lambda: encoder).rank(question)
        want = Searcher(faiss, lambda: encoder).rank(question)
        assert [r for r, _ in found][:10] == [r for r, _ in want][:10]
