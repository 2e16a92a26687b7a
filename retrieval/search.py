"""Rank paragraphs for a question: dense (FAISS), lexical (BM25) and the fused hybrid."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from retrieval.documents import Paragraph
from retrieval.encoders import Encoder
from retrieval.errors import QabotError
from retrieval.index import LoadedIndex

logger = logging.getLogger(__name__)

METHODS = ("hybrid", "dense", "bm25")
MAX_QUESTION_CHARS = 2000
# Reciprocal-rank fusion constant: 60 is the value of Cormack et al.; it damps the head.
RRF_K = 60
# How deep each half is read before fusing; beyond this a paragraph scores nothing.
CANDIDATES = 100


@dataclass(frozen=True)
class Passage:
    """One ranked paragraph for a question."""

    paragraph: Paragraph
    score: float
    rank: int


@dataclass(frozen=True)
class Answer:
    """The ranked passages for a question, and whether the corpus really answers it."""

    query: str
    passages: tuple[Passage, ...]
    confident: bool | None
    total: int


def check_question(query: str) -> str:
    """Return the question stripped, or raise a one-line error for an unusable one."""
    text = query.strip()
    if not text:
        raise QabotError(
            'the question is empty; type a question, e.g. qabot ask "青年路什么时候停水"'
        )
    if len(text) > MAX_QUESTION_CHARS:
        raise QabotError(
            f"the question is {len(text)} characters long; ask in at most "
            f"{MAX_QUESTION_CHARS} characters"
        )
    return text


class Searcher:
    """Answer questions from a loaded index, encoding questions with a (lazily made) encoder."""

    def __init__(self, index: LoadedIndex, encoder: Callable[[], Encoder]) -> None:
        self.index = index
        self._make_encoder = encoder
        self._encoder: Encoder | None = None

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = self._make_encoder()
        return self._encoder

    def dense_scores(self, query: str, depth: int) -> dict[int, float]:
        """Return the cosine of the question to its `depth` nearest paragraphs, by row."""
        vector = self.encoder.encode_queries([query])
        depth = min(depth, self.index.manifest.count)
        scores, rows = self.index.vectors.search(vector, depth)  # type: ignore[attr-defined]
        return {int(r): float(s) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0}

    def lexical_scores(self, query: str, depth: int) -> dict[int, float]:
        """Return the BM25 score of the `depth` best-matching paragraphs (score > 0), by row."""
        scores = self.index.lexical.scores(query)
        depth = min(depth, len(scores))
        top = (
            np.argpartition(-scores, depth - 1)[:depth]
            if depth < len(scores)
            else np.arange(len(scores))
        )
        return {int(r): float(scores[r]) for r in top if scores[r] > 0}

    def rank(
        self, query: str, method: str = "hybrid", depth: int = CANDIDATES
    ) -> list[tuple[int, float]]:
        """Return (row, score) for the question, best first, by the given method."""
        if method == "dense":
            return _sorted(self.dense_scores(query, depth))
        if method == "bm25":
            return _sorted(self.lexical_scores(query, depth))
        if method != "hybrid":
            raise QabotError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        dense = _sorted(self.dense_scores(query, depth))
        lexical = _sorted(self.lexical_scores(query, depth))
        fused: dict[int, float] = {}
        for ranking in (dense, lexical):
            for position, (row, _) in enumerate(ranking, start=1):
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + position)
        return _sorted(fused)

    def search(self, query: str, k: int = 3, offset: int = 0, method: str = "hybrid") -> Answer:
        """Return passages offset+1 .. offset+k of the ranking for the question."""
        text = check_question(query)
        ranking = self.rank(text, method, depth=max(CANDIDATES, offset + k))
        chosen = ranking[offset : offset + k]
        passages = tuple(
            Passage(self.index.paragraphs[row], score, offset + i + 1)
            for i, (row, score) in enumerate(chosen)
        )
        return Answer(text, passages, None, len(ranking))

    def neighbours(self, doc: str, number: int, radius: int = 1) -> list[Paragraph]:
        """Return paragraph `number` of `doc` with up to `radius` paragraphs on each side."""
        row = self.index.row_of(doc, number)
        if row is None:
            raise QabotError(self.describe_range(doc, number))
        lo, hi = max(0, row - radius), min(len(self.index.paragraphs), row + radius + 1)
        return [p for p in self.index.paragraphs[lo:hi] if p.doc == doc]

    def describe_range(self, doc: str, number: int) -> str:
        """Explain in one line why (doc, number) is not a paragraph, with the valid range."""
        numbers = [p.number for p in self.index.paragraphs if p.doc == doc]
        if not numbers:
            docs = ", ".join(self.index.documents)
            return f"there is no document {doc!r}; the documents are: {docs}"
        return f"there is no paragraph {number} in {doc}; paragraphs run from 1 to {max(numbers)}"


def _sorted(scores: dict[int, float]) -> list[tuple[int, float]]:
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
