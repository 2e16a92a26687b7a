"""The first-stage rankings by name: dense, BM25 and their fusion; one registry for all.

A ranking method is a function from a `Retrieval` to a `Ranking`, registered with
`@method("name")`; `qabot ask --method`, `qabot eval` and the bot all choose from `METHODS`.
"""

from __future__ import annotations

from collections.abc import Callable

from retrieval.errors import UsageError
from retrieval.search.candidates import Ranking, Retrieval, best_first

RankingMethod = Callable[[Retrieval], Ranking]

# Weight of the lexical z-score against the dense one in the fused score. Chosen on
# cmrc2018-dev (best nDCG@10 for 0.3-0.7) and the dev half of corpus/gold (best at 0.5):
# reciprocal-rank fusion lost to BM25 alone on both (0.990 vs 0.992 nDCG@10 on cmrc2018-dev).
LEXICAL_WEIGHT = 0.5

_METHODS: dict[str, RankingMethod] = {}


def method(name: str) -> Callable[[RankingMethod], RankingMethod]:
    """Register a ranking method under a name."""

    def add(func: RankingMethod) -> RankingMethod:
        _METHODS[name] = func
        return func

    return add


@method("hybrid")
def z_score_fusion(retrieval: Retrieval) -> Ranking:
    """Rank every candidate of either half by its dense z-score plus the weighted lexical one."""
    rows = {row for row, _ in retrieval.dense_top} | set(retrieval.lexical)
    return best_first(
        {r: retrieval.dense_z(r) + LEXICAL_WEIGHT * retrieval.lexical_z(r) for r in rows}
    )


@method("dense")
def dense_ranking(retrieval: Retrieval) -> Ranking:
    """Rank by cosine: the dense half's own candidates."""
    return retrieval.dense_top


@method("bm25")
def lexical_ranking(retrieval: Retrieval) -> Ranking:
    """Rank by BM25: the paragraphs sharing words with the question."""
    return best_first(retrieval.lexical)


METHODS: tuple[str, ...] = tuple(_METHODS)


def ranking_method(name: str) -> RankingMethod:
    """Return the ranking method of that name.

    Raises:
        UsageError: there is no such method; it lists the ones there are.
    """
    try:
        return _METHODS[name]
    except KeyError:
        raise UsageError(f"unknown method {name!r}; choose from {', '.join(METHODS)}") from None
