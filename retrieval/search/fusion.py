"""The first-stage rankings by name: dense, BM25 and their fusion; one registry for all.

A ranking method is a function from a `Retrieval` to a `Ranking`, registered with
`@RANKING_METHODS.register("name")`; re-rankers (search/rerank.py) come after them.
"""

from __future__ import annotations

from collections.abc import Callable

from retrieval.registry import Registry
from retrieval.search.candidates import Ranking, Retrieval, best_first

RankingMethod = Callable[[Retrieval], Ranking]

# Weight of the lexical z-score against the dense one in the fused score. Chosen on
# cmrc2018-dev (best nDCG@10 for 0.3-0.7) and the dev half of corpus/gold (best at 0.5):
# reciprocal-rank fusion lost to BM25 alone on both (0.990 vs 0.992 nDCG@10 on cmrc2018-dev).
LEXICAL_WEIGHT = 0.5
# The share of a question's terms (idf-weighted) the corpus must know for BM25's full say.
FULL_EVIDENCE = 0.5

RANKING_METHODS: Registry[RankingMethod] = Registry("method")


def lexical_weight(retrieval: Retrieval) -> float:
    """Return the lexical half's say: full when the corpus knows the question's words.

    A question whose words the corpus lacks (another script, symbols) gets BM25 scores from
    the few terms that happen to match, which are noise; its weight falls with its evidence.
    """
    return LEXICAL_WEIGHT * min(1.0, retrieval.lexical_evidence / FULL_EVIDENCE)


@RANKING_METHODS.register("hybrid")
def z_score_fusion(retrieval: Retrieval) -> Ranking:
    """Rank every candidate of either half by its dense z-score plus the weighted lexical one."""
    rows = {row for row, _ in retrieval.dense_top} | set(retrieval.lexical)
    weight = lexical_weight(retrieval)
    return best_first({r: retrieval.dense_z(r) + weight * retrieval.lexical_z(r) for r in rows})


@RANKING_METHODS.register("dense")
def dense_ranking(retrieval: Retrieval) -> Ranking:
    """Rank by cosine: the dense half's own candidates."""
    return retrieval.dense_top


@RANKING_METHODS.register("bm25")
def lexical_ranking(retrieval: Retrieval) -> Ranking:
    """Rank by BM25: the paragraphs sharing words with the question."""
    return best_first(retrieval.lexical)


ranking_method = RANKING_METHODS.get
