"""The second stage: re-rankers that read the first stage's best candidates with the question.

A re-ranker is registered by name in `RERANKERS` as a factory (it may load a model, so it is
made on first use); the ranking method of the same name is the hybrid followed by it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from retrieval.ingest import Paragraph
from retrieval.registry import Registry
from retrieval.search.candidates import Ranking
from retrieval.search.confidence import is_latin, logistic

# How many of the hybrid's first passages the reader reads: its misses are at rank 2 or 3,
# and each one read costs milliseconds.
READ_CANDIDATES = 4
# The re-ranked score of a passage read: READER_WEIGHT x the reader's logit + FIRST_STAGE_WEIGHT
# x the hybrid's fused z-score. The reader was trained on Chinese questions only: a question
# without CJK characters gets LATIN_READER_WEIGHT instead (its say follows its evidence).
# FIRST_STAGE_WEIGHT = math.inf keeps the first stage's order: the reader only judges it.
READER_WEIGHT = 1.0
LATIN_READER_WEIGHT = 0.0
FIRST_STAGE_WEIGHT = 3.0
# Whether the first passage answers: a logistic model over the reader's logit for it, the
# logit of the first stage's own confidence (search/confidence.py; it sees an English question
# through its translation) and whether the question has no CJK character. Fitted by
# benchmarks/tune_reader.py on the dev half of corpus/gold, its answer-removed copies and
# off-topic cmrc2018-dev questions; the threshold keeps at most 5% of the dev half's
# answerable questions flagged. One threshold for all languages. (Separate weights for
# questions with and without CJK fitted worse on the dev half: 19 Latin questions are too
# few to fit them.)
CONFIDENCE_COEFFICIENTS = (0.160, 0.730, 0.719)  # reader logit, first stage logit, Latin
CONFIDENCE_INTERCEPT = 0.704
READER_THRESHOLD = 0.258


@dataclass(frozen=True)
class Reread:
    """A ranking after the second stage, how sure it is, and the answers it found."""

    ranking: Ranking
    confidence: float  # probability that the first passage answers the question
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)  # row -> answer offsets


class Reranker(Protocol):
    """Re-rank a first-stage ranking by reading the paragraphs with the question."""

    threshold: float

    def __call__(
        self, question: str, ranking: Ranking, paragraphs: Sequence[Paragraph], prior: float
    ) -> Reread:
        """Return the re-ranked ranking (every row of `ranking`, none added).

        prior: the first stage's probability that its first passage answers the question.
        """
        ...


RERANKERS: Registry[Callable[[], Reranker]] = Registry("method")


class ReaderReranker:
    """Re-rank with the passage reader (retrieval/read): relevance, not-found, answer span."""

    threshold = READER_THRESHOLD

    def __init__(self, reader: object) -> None:
        self.reader = reader

    def __call__(
        self, question: str, ranking: Ranking, paragraphs: Sequence[Paragraph], prior: float
    ) -> Reread:
        if not ranking:
            return Reread([], 0.0)
        read, rest = ranking[:READ_CANDIDATES], ranking[READ_CANDIDATES:]
        texts = [paragraphs[row].text for row, _ in read]
        readings = self.reader.read(question, texts)  # type: ignore[attr-defined]
        latin = is_latin(question)
        weight = LATIN_READER_WEIGHT if latin else READER_WEIGHT
        pairs = list(zip(read, readings, strict=True))
        if math.isinf(FIRST_STAGE_WEIGHT):  # the first stage orders, the reader judges
            scored = [(row, first, reading) for (row, first), reading in pairs]
        else:
            scored = [
                (row, weight * reading.score + FIRST_STAGE_WEIGHT * first, reading)
                for (row, first), reading in pairs
            ]
            scored.sort(key=lambda item: -item[1])
        lowest = scored[-1][1]
        # The unread rest keeps its order, below every passage read.
        shift = lowest - 1.0 - rest[0][1] if rest else 0.0
        reranked = [(row, score) for row, score, _ in scored] + [(r, s + shift) for r, s in rest]
        spans = {row: reading.span for row, _, reading in scored if reading.span is not None}
        return Reread(reranked, confidence(scored[0][2].score, prior, latin), spans)


def confidence(reader_logit: float, prior: float, latin: bool) -> float:
    """Return the probability that the first passage answers (CONFIDENCE_COEFFICIENTS)."""
    inputs = confidence_inputs(reader_logit, prior, latin)
    return logistic(CONFIDENCE_INTERCEPT, CONFIDENCE_COEFFICIENTS, inputs)


def confidence_inputs(reader_logit: float, prior: float, latin: bool) -> tuple[float, ...]:
    """Return the confidence model's inputs, in the order of CONFIDENCE_COEFFICIENTS."""
    return reader_logit, logit(prior), float(latin)


def logit(p: float) -> float:
    """Return log(p / (1 - p)), p clipped away from 0 and 1."""
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return math.log(p / (1.0 - p))


@RERANKERS.register("reader")
def passage_reader() -> Reranker:
    """Load the passage reader trained for qabot (its artifact ships in retrieval/read/)."""
    # Searcher.reranker makes each re-ranker once, under its own lock.
    from retrieval.read.reader import PassageReader

    return ReaderReranker(PassageReader.load())
