"""The second stage: re-rankers that read the first stage's best candidates with the question.

A re-ranker is registered by name in `RERANKERS` as a factory (it may load a model, so it is
made on first use); the ranking method of the same name is the hybrid followed by it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from retrieval.ingest import Paragraph
from retrieval.registry import Registry
from retrieval.search.candidates import Ranking

# How many of the hybrid's first passages the reader reads: its misses are at rank 2 or 3,
# and each one read costs milliseconds.
READ_CANDIDATES = 4
# Weight of the hybrid's fused z-score beside the reader's logit in the re-ranked score.
FIRST_STAGE_WEIGHT = 0.5
# The reader's probability that its best passage answers, at or above which qabot is
# confident; one threshold for every language (chosen on the dev half of corpus/gold).
READER_THRESHOLD = 0.5


@dataclass(frozen=True)
class Reread:
    """A ranking after the second stage, how sure it is, and the answers it found."""

    ranking: Ranking
    confidence: float  # probability that the first passage answers the question
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)  # row -> answer offsets


class Reranker(Protocol):
    """Re-rank a first-stage ranking by reading the paragraphs with the question."""

    threshold: float

    def __call__(self, question: str, ranking: Ranking, paragraphs: Sequence[Paragraph]) -> Reread:
        """Return the re-ranked ranking (every row of `ranking`, none added)."""
        ...


RERANKERS: Registry[Callable[[], Reranker]] = Registry("method")


class ReaderReranker:
    """Re-rank with the passage reader (retrieval/read): relevance, not-found, answer span."""

    threshold = READER_THRESHOLD

    def __init__(self, reader: object) -> None:
        self.reader = reader

    def __call__(self, question: str, ranking: Ranking, paragraphs: Sequence[Paragraph]) -> Reread:
        if not ranking:
            return Reread([], 0.0)
        read, rest = ranking[:READ_CANDIDATES], ranking[READ_CANDIDATES:]
        texts = [paragraphs[row].text for row, _ in read]
        readings = self.reader.read(question, texts)  # type: ignore[attr-defined]
        scored = [
            (row, reading.score + FIRST_STAGE_WEIGHT * first, reading)
            for (row, first), reading in zip(read, readings, strict=True)
        ]
        scored.sort(key=lambda item: -item[1])
        best = scored[0][2]
        lowest = scored[-1][1]
        # The unread rest keeps its order, below every passage read.
        shift = lowest - 1.0 - rest[0][1] if rest else 0.0
        reranked = [(row, score) for row, score, _ in scored] + [(r, s + shift) for r, s in rest]
        spans = {row: reading.span for row, _, reading in scored if reading.span is not None}
        return Reread(reranked, 1.0 - best.p_not_answer, spans)


@RERANKERS.register("reader")
def passage_reader() -> Reranker:
    """Load the passage reader trained for qabot (its artifact ships in retrieval/read/)."""
    # Searcher.reranker makes each re-ranker once, under its own lock.
    from retrieval.read.reader import PassageReader

    return ReaderReranker(PassageReader.load())
