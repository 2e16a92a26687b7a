"""What both halves of the first stage found for a question, with the statistics fusion needs."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

# (row, score) pairs, best first.
Ranking = list[tuple[int, float]]


def best_first(scores: dict[int, float]) -> Ranking:
    """Return (row, score) pairs by falling score, ties by row (a stable order)."""
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


@dataclass(frozen=True)
class LexicalQuery:
    """What the lexical half matches for a question, and how far it speaks for the question."""

    text: str  # the question itself, or the corpus words translating it
    evidence: float  # 0 to 1: how much say the lexical half has (0: the corpus has none of it)
    share: float = 1.0  # the share of the question's content words the text stands for
    # A translated question: the corpus words for each of its words (search/translate.py).
    sense_groups: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Retrieval:
    """The candidates of the dense and lexical halves for one question, and their spread."""

    query: str
    dense: dict[int, float]  # row -> cosine, for every candidate of either half
    lexical: dict[int, float]  # row -> BM25 score (> 0), the lexical half's candidates
    dense_top: Ranking  # the dense half's own candidates, best first
    dense_mean: float
    dense_std: float
    lexical_mean: float
    lexical_std: float
    # The idf-weighted share of the question's terms the corpus has (LexicalIndex.known_share).
    lexical_evidence: float = 1.0
    # What the lexical half matched: the question, or the corpus words translating it.
    lexical_query: str = ""
    # The share of the question's content words lexical_query stands for (1: the question).
    lexical_share: float = 1.0

    def cosine_z(self, cosine: float) -> float:
        """Return how far a cosine stands above the question's cosines to the whole corpus."""
        return (cosine - self.dense_mean) / self.dense_std if self.dense_std > 0 else 0.0

    def dense_z(self, row: int) -> float:
        """Return the dense z-score of a row (a row no half reached counts as average)."""
        return self.cosine_z(self.dense.get(row, self.dense_mean))

    def lexical_z(self, row: int) -> float:
        """Return the lexical z-score of a row (a row without shared words scores 0)."""
        if self.lexical_std <= 0:
            return 0.0
        return (self.lexical.get(row, 0.0) - self.lexical_mean) / self.lexical_std

    def without(self, rows: Collection[int]) -> Retrieval:
        """Return the retrieval as if these rows were not in the corpus (answer-removed)."""
        return replace(
            self,
            dense={r: s for r, s in self.dense.items() if r not in rows},
            lexical={r: s for r, s in self.lexical.items() if r not in rows},
            dense_top=[(r, s) for r, s in self.dense_top if r not in rows],
        )
