"""Tests for retrieval.store.manifest: what built an index, checked on load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.wording import cli_message
from retrieval.errors import IndexStateError, Remedy
from retrieval.ingest import load_documents
from retrieval.store.index import build_index, load_index
from retrieval.store.manifest import (
    FORMAT_VERSION,
    MANIFEST,
    Manifest,
    digest_files,
    file_digest,
    staleness,
    verify_files,
)
from tests.conftest import FakeEncoder


def quiet(_: str) -> None:
    pass


def test_staleness_reasons(tmp_path: Path, corpus: Path) -> None:
    documents, _ = load_documents([corpus])
    index = build_index(tmp_path / "idx", documents, FakeEncoder(), quiet, progress=False)
    m = index.manifest
    assert staleness(m, m.model, m.corpus_hash) is None
    assert "has changed since the index was built" in str(staleness(m, m.model, "other"))
    assert "built with model" in str(staleness(m, "other/model", m.corpus_hash))
    old = Manifest(**{**m.__dict__, "format_version": FORMAT_VERSION + 1})
    assert "format" in str(staleness(old, m.model, m.corpus_hash))


@pytest.mark.parametrize("content", ["", "{not json", json.dumps({"format_version": 1})])
def test_garbage_manifest_is_refused(tmp_path: Path, corpus: Path, content: str) -> None:
    documents, _ = load_documents([corpus])
    build_index(tmp_path / "idx", documents, FakeEncoder(), quiet, progress=False)
    (tmp_path / "idx" / MANIFEST).write_text(content, encoding="utf-8")
    with pytest.raises(IndexStateError, match="unreadable or damaged") as caught:
        load_index(tmp_path / "idx")
    assert caught.value.remedy is Remedy.REBUILD_INDEX


def test_missing_index_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(IndexStateError) as caught:
        load_index(tmp_path / "nothing")
    assert "qabot index" in cli_message(caught.value)
    assert caught.value.remedy is Remedy.BUILD_INDEX


def test_written_manifest_reads_back(tmp_path: Path) -> None:
    manifest = Manifest(2, "m", 4, 1, "h", "0", "now", "flat", [{"doc": "a"}], {"f": {"size": 1}})
    manifest.write(tmp_path)
    assert Manifest.read(tmp_path) == manifest


def test_digests_catch_a_changed_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.bin").write_bytes(b"one")
    (tmp_path / "sub" / "b.bin").write_bytes(b"two")
    digests = digest_files(tmp_path)
    assert set(digests) == {"a.bin", "sub/b.bin"}
    assert digests["a.bin"] == file_digest(tmp_path / "a.bin")
    verify_files(tmp_path, digests, digests)
    (tmp_path / "sub" / "b.bin").write_bytes(b"TWO")
    with pytest.raises(IndexStateError, match="sub/b.bin is missing or damaged"):
        verify_files(tmp_path, digests, ["sub/b.bin"])
