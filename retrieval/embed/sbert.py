"""The sentence-transformers runtime: any model, with the model's own query/passage prompts."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from retrieval.embed.base import ENCODE_BATCH
from retrieval.embed.models import cached_on_disk, resolve_model
from retrieval.errors import ModelError, Remedy
from retrieval.normalize import normalize
from retrieval.progress import Say, progress_bar, say_on_stderr

# Paragraphs encoded between two updates of the progress bar.
PROGRESS_STEP = 4 * ENCODE_BATCH


class SentenceTransformerEncoder:
    """Encode with sentence-transformers, so models with query/passage prompts get them."""

    def __init__(self, model: str, models_dir: Path, say: Say = say_on_stderr) -> None:
        self.model = model
        location = resolve_model(model, models_dir, say)
        # Importing torch and loading the weights takes ~9 s on two cores: say so first.
        say(f"Loading {model} with sentence-transformers...")
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            # Its per-tensor "Loading weights" bar says nothing a user can act on.
            hf_logging.disable_progress_bar()
            local = Path(location).is_dir() or cached_on_disk(location)
            self._st = SentenceTransformer(location, device="cpu", local_files_only=local)
        except Exception as exc:  # any failure here is the model's, and the user can act on it
            raise ModelError(
                f"cannot load model {model!r}: {str(exc).splitlines()[0] if str(exc) else exc!r}",
                remedy=Remedy.MODEL_PATH,
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
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        # Our own bar over a few batches at a time, not sentence-transformers' "Batches" one:
        # one kind of bar for every runtime, and only on a terminal (see progress.py).
        with progress_bar(len(texts), "Embedding", progress) as advance:
            for start in range(0, len(order), PROGRESS_STEP):
                rows = order[start : start + PROGRESS_STEP]
                out[rows] = self._st.encode_document(
                    [normalize(texts[i]) for i in rows],
                    batch_size=ENCODE_BATCH,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                advance(len(rows))
        return out


def _torch_threads(count: int) -> None:
    """Use `count` threads: all cores for passages, one for a question.

    A question is a few dozen tokens; waking a second thread for it costs more than it saves,
    and on a busy 2-core machine it made encoding 5x slower (41 ms -> 195-300 ms).
    """
    import torch

    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
