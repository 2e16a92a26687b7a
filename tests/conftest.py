"""Shared fixtures: every data and cache directory points into a temporary folder."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from retrieval.config import BUNDLED_CORPUS, ENV_CHOICES, Settings
from retrieval.engine import Engine
from retrieval.ingest import load_documents
from retrieval.search import Searcher
from retrieval.store.index import build_index
from tests.support.running_bot import RunningBot
from tests.support.telegram_server import BotAPIServer

REPO = Path(__file__).resolve().parents[1]
SEED = BUNDLED_CORPUS / "shanxi-taiyuan-news-2023-08-30.md"
DATA = Path(__file__).resolve().parent / "data"


def run_qabot(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot.cli.main ARGS` as a real process and return the completed process."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=600,
        check=False,
    )


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A corpus folder of its own holding a copy of the bundled page."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder


@pytest.fixture(scope="session", autouse=True)
def qabot_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point QABOT_HOME (models, indexes) at one temporary folder for the whole session.

    The default model folder is built there once and shared by every test that needs it.
    """
    home = tmp_path_factory.mktemp("qabot-home")
    old = os.environ.get("QABOT_HOME")
    os.environ["QABOT_HOME"] = str(home)
    for name in ENV_CHOICES:
        os.environ.pop(name, None)
    yield home
    if old is None:
        os.environ.pop("QABOT_HOME", None)
    else:
        os.environ["QABOT_HOME"] = old


@pytest.fixture(scope="session")
def default_model(qabot_home: Path) -> Path:
    """The default model's sentence-transformers folder in the session home (built once)."""
    from retrieval.embed import default_model_folder

    return default_model_folder(qabot_home / "models", say=lambda _: None)


@pytest.fixture(scope="session")
def seed_engine(qabot_home: Path, default_model: Path) -> Engine:
    """An engine over the bundled corpus with the real default model (built once)."""
    engine = Engine(Settings(home=qabot_home))
    engine.searcher  # noqa: B018  (build the index now, not inside the first test's timing)
    return engine


class FakeEncoder:
    """A deterministic bag-of-characters encoder: enough for ranking logic, no model needed."""

    model = "fake/bag-of-chars"
    dim = 64

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for ch in text:
                if not ch.isspace():
                    slot = int(hashlib.md5(ch.encode()).hexdigest(), 16) % self.dim
                    out[row, slot] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts)


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture(scope="session")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    """A searcher over the bundled page with the fake encoder (no model): read-only, shared."""
    folder = tmp_path_factory.mktemp("fake-corpus")
    shutil.copy(SEED, folder / SEED.name)
    documents, _ = load_documents([folder])
    encoder = FakeEncoder()
    index = build_index(folder / "idx", documents, encoder, lambda _: None, progress=False)
    return Searcher(index, lambda: encoder)


# The Telegram tests: a Bot API server on 127.0.0.1 per test module, and the real bot on it.
@pytest.fixture(scope="module")
def server() -> Iterator[BotAPIServer]:
    with BotAPIServer() as api:
        yield api


@pytest.fixture
def bot(server: BotAPIServer, seed_engine: Engine) -> Iterator[RunningBot]:
    """The bot with default settings over the bundled corpus and the real default model."""
    with RunningBot(server, seed_engine) as running:
        yield running
