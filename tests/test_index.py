"""Tests for retrieval.store.index: build -> save -> load round trips, damage, reuse, rollback."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from bot.wording import cli_message
from retrieval.errors import IndexStateError
from retrieval.ingest import Document, Paragraph, corpus_hash, load_documents
from retrieval.search import Searcher
from retrieval.store import index as index_module
from retrieval.store.index import build_index, load_index
from retrieval.store.manifest import FORMAT_VERSION, MANIFEST
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


@pytest.mark.parametrize("victim", ["vectors.faiss", "paragraphs.jsonl", "bm25/vocab.index.json"])
def test_damaged_file_is_detected(tmp_path: Path, corpus: Path, victim: str) -> None:
    documents, _ = load_documents([corpus])
    build_index(tmp_path / "idx", documents, FakeEncoder(), quiet, progress=False)
    path = tmp_path / "idx" / victim
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IndexStateError) as caught:
        load_index(tmp_path / "idx")
    assert re.search("missing or damaged.*qabot index --rebuild", cli_message(caught.value))


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

    monkeypatch.setattr("retrieval.store.index.fsync_tree", crash)
    (corpus / "extra.md").write_text("新增的一段。\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        build_index(tmp_path / "idx", load_documents([corpus])[0], FakeEncoder(), quiet, False)
    assert (tmp_path / "idx" / MANIFEST).read_text(encoding="utf-8") == before
    assert load_index(tmp_path / "idx").manifest.count == 50


def paged_documents() -> list[Document]:
    paragraphs = (
        Paragraph("report", 1, "第一章", "青年路明天停水。", (("date", "2023-08-30"),), page=3),
        Paragraph("report", 2, "第一章", "迎泽大街后天停水。", page=None),
        Paragraph("report", 3, "第二章", "免费送戏下乡一万场。", page=12),
    )
    return [Document("report", Path("report.pdf"), "报告", paragraphs, "0" * 64)]


def test_pages_round_trip(tmp_path: Path) -> None:
    documents = paged_documents()
    built = build_index(tmp_path / "idx", documents, FakeEncoder(), quiet, progress=False)
    loaded = load_index(tmp_path / "idx")
    assert [p.page for p in loaded.paragraphs] == [3, None, 12]
    assert list(loaded.paragraphs) == list(built.paragraphs) == list(documents[0].paragraphs)


class RecordingBackend:
    """The FAISS backend, noting which of its stores were discarded."""

    def __init__(self) -> None:
        from retrieval.store.faiss_store import FaissBackend

        self.inner = FaissBackend()
        self.discarded: list[object] = []

    def build(self, directory, vectors, paragraphs, spec):  # type: ignore[no-untyped-def]
        store = self.inner.build(directory, vectors, paragraphs, spec)
        store.discard = lambda: self.discarded.append(store)  # type: ignore[method-assign]
        return store

    def load(self, directory, manifest, exact):  # type: ignore[no-untyped-def]
        return self.inner.load(directory, manifest, exact)

    def close(self) -> None:
        pass


def test_a_build_that_is_not_published_is_discarded(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = RecordingBackend()
    documents, _ = load_documents([corpus])
    build_index(tmp_path / "idx", documents, FakeEncoder(), quiet, False, backend=backend)
    assert backend.discarded == []

    def crash(*_: object, **__: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("retrieval.store.index.replace_dir", crash)
    with pytest.raises(OSError, match="disk full"):
        build_index(tmp_path / "idx", documents, FakeEncoder(), quiet, False, backend=backend)
    assert len(backend.discarded) == 1
    assert load_index(tmp_path / "idx").manifest.count == 50


def test_big_corpora_say_when_the_words_are_indexed(
    tmp_path: Path,
    corpus: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    documents, _ = load_documents([corpus])
    lines: list[str] = []
    build_index(tmp_path / "small", documents, FakeEncoder(), lines.append, progress=True)
    assert not any("BM25" in line for line in lines)  # 50 paragraphs: over in a blink
    monkeypatch.setattr(index_module, "LEXICAL_PROGRESS_FROM", 50)
    lines.clear()
    build_index(tmp_path / "big", documents, FakeEncoder(), lines.append, progress=True)
    assert "Indexing the words of 50 paragraphs (BM25)..." in lines
    assert re.search(r"Words: 100%.*50/50", capsys.readouterr().err)  # the bar reached the end


def test_a_manifest_miscounting_its_paragraphs_says_each_count(
    tmp_path: Path, corpus: Path
) -> None:
    documents, _ = load_documents([corpus])
    build_index(tmp_path / "idx", documents, FakeEncoder(), quiet, progress=False)
    manifest = tmp_path / "idx" / MANIFEST
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(re.sub(r'"count": 50', '"count": 51', text), encoding="utf-8")
    with pytest.raises(IndexStateError, match=r"\(50 vectors, 50 paragraphs, 51 in its manifest\)"):
        load_index(tmp_path / "idx")
