"""Tests for retrieval.store.index: build -> save -> load round trips, staleness, damage, reuse."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from retrieval.errors import IndexStateError
from retrieval.ingest import corpus_hash, load_documents
from retrieval.search import Searcher
from retrieval.store.index import (
    FORMAT_VERSION,
    MANIFEST,
    Manifest,
    build_index,
    load_index,
    staleness,
)
from tests.conftest import FakeEncoder


def quiet(_: str) -> None:
    pass


def test_round_trip_gives_the_same_results(tmp_path: Path, corpus: Path) -> None:
    documents, _ = load_documents([corpus])
    encoder = FakeEncoder()
    built = build_index(tmp_path / "idx", documents, encoder, quiet, progress=False)
    loaded = load_index(tmp_path / "idx")
    assert loaded.paragraphs == built.paragraphs
    assert loaded.manifest == built.manifest
    assert loaded.manifest.count == 50 and loaded.manifest.dim == encoder.dim
    assert loaded.manifest.format_version == FORMAT_VERSION
    assert loaded.manifest.corpus_hash == corpus_hash(documents)
    for question in ("青年路什么时候停水", "今年计划免费送戏下乡多少场？", "AED 配置多少台"):
        before = Searcher(built, lambda: encoder).rank(question)
        after = Searcher(loaded, lambda: encoder).rank(question)
        assert [r for r, _ in before][:10] == [r for r, _ in after][:10]
        assert np.allclose([s for _, s in before][:10], [s for _, s in after][:10])


def test_row_i_is_paragraph_i(tmp_path: Path, corpus: Path) -> None:
    documents, _ = load_documents([corpus])
    encoder = FakeEncoder()
    index = build_index(tmp_path / "idx", documents, encoder, quiet, progress=False)
    expected = encoder.encode_passages([p.index_text for p in index.paragraphs])
    stored = np.vstack([index.vectors.index.reconstruct(i) for i in range(index.manifest.count)])
    assert np.allclose(stored, expected, atol=1e-6)


def test_staleness_reasons(tmp_path: Path, corpus: Path) -> None:
    documents, _ = load_documents([corpus])
    index = build_index(tmp_path / "idx", documents, FakeEncoder(), quiet, progress=False)
    m = index.manifest
    assert staleness(m, m.model, m.corpus_hash) is None
    assert "corpus has changed" in str(staleness(m, m.model, "other"))
    assert "built with model" in str(staleness(m, "other/model", m.corpus_hash))
    old = Manifest(**{**m.__dict__, "format_version": FORMAT_VERSION + 1})
    assert "format" in str(staleness(old, m.model, m.corpus_hash))


@pytest.mark.parametrize("victim", ["vectors.faiss", "paragraphs.jsonl", "bm25/vocab.index.json"])
def test_damaged_file_is_detected(tmp_path: Path, corpus: Path, victim: str) -> None:
    documents, _ = load_documents([corpus])
    build_index(tmp_path / "idx", documents, FakeEncoder(), quiet, progress=False)
    path = tmp_path / "idx" / victim
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IndexStateError, match="missing or damaged.*qabot index --rebuild"):
        load_index(tmp_path / "idx")


@pytest.mark.parametrize("content", ["", "{not json", json.dumps({"format_version": 1})])
def test_garbage_manifest_is_refused(tmp_path: Path, corpus: Path, content: str) -> None:
    documents, _ = load_documents([corpus])
    build_index(tmp_path / "idx", documents, FakeEncoder(), quiet, progress=False)
    (tmp_path / "idx" / MANIFEST).write_text(content, encoding="utf-8")
    with pytest.raises(IndexStateError, match="unreadable or damaged"):
        load_index(tmp_path / "idx")


def test_missing_index_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(IndexStateError, match="qabot index"):
        load_index(tmp_path / "nothing")


class CountingEncoder(FakeEncoder):
    def __init__(self) -> None:
        self.embedded = 0

    def encode_passages(self, texts, progress: bool = False):  # type: ignore[no-untyped-def]
        self.embedded += len(texts)
        return super().encode_passages(texts, progress)


def test_rebuild_reembeds_only_changed_paragraphs(tmp_path: Path, corpus: Path) -> None:
    encoder = CountingEncoder()
    build_index(tmp_path / "idx", load_documents([corpus])[0], encoder, quiet, progress=False)
    assert encoder.embedded == 50
    (corpus / "extra.md").write_text("# 新文档\n\n新增的一段。\n\n又一段。\n", encoding="utf-8")
    encoder.embedded = 0
    index = build_index(
        tmp_path / "idx", load_documents([corpus])[0], encoder, quiet, progress=False
    )
    assert encoder.embedded == 2
    assert index.manifest.count == 52
    fresh = FakeEncoder().encode_passages([p.index_text for p in index.paragraphs])
    stored = np.vstack([index.vectors.index.reconstruct(i) for i in range(index.manifest.count)])
    assert np.allclose(stored, fresh, atol=1e-6)


def test_interrupted_build_leaves_the_old_index(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents, _ = load_documents([corpus])
    build_index(tmp_path / "idx", documents, FakeEncoder(), quiet, progress=False)
    before = (tmp_path / "idx" / MANIFEST).read_text(encoding="utf-8")

    def crash(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("retrieval.store.index._fsync_tree", crash)
    (corpus / "extra.md").write_text("新增的一段。\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        build_index(tmp_path / "idx", load_documents([corpus])[0], FakeEncoder(), quiet, False)
    assert (tmp_path / "idx" / MANIFEST).read_text(encoding="utf-8") == before
    assert load_index(tmp_path / "idx").manifest.count == 50
