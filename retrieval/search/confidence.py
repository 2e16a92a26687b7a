"""Tell whether the corpus answers a question: a small calibrated model over retrieval signals."""

from __future__ import annotations

import math
import re
from dataclasses import astuple, dataclass

from retrieval.search.candidates import Retrieval

# Raw e5 cosines bunch up between 0.8 and 0.9 for answerable and unanswerable questions alike,
# so no fixed cut-off on them works. These four signals together do better:
#   cosine    the best dense cosine (absolute closeness, weak on its own),
#   dense_z   how far it stands above this question's cosines to the whole corpus (z-score),
#   coverage  the idf-weighted share of the question's words the best passage contains,
#   latin     1 for a question without any CJK character: its coverage is that of the corpus
#             words translating it (search/translate.py) times the share of its content words
#             that have a translation, which covers less than a Chinese question's own words
#             would; its cosine is that of the question read with its translation.
# Coefficients of a weighted logistic regression (L2, C=1) over the data benchmarks/calibrate.py
# describes: 1,500 cmrc2018-dev questions with and without their gold paragraph, cmrc questions
# asked of our corpus and ours of cmrc2018-dev (off-topic), and the dev half of corpus/gold
# (weight 20); not the questions the served path never scores (refused before the index, or
# nothing_in_common). The test half was not used. Refit with that script when the model, the
# fusion, the translation or the tokenizer changes.
COEFFICIENTS = (12.389, 0.334, 6.283, 2.855)
INTERCEPT = -14.811
# Chosen on the dev half of corpus/gold so that at most 5% of answerable questions are flagged.
THRESHOLD = 0.099

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Signals:
    """What the confidence model reads about one question's retrieval."""

    cosine: float
    dense_z: float
    coverage: float
    latin: float


def is_latin(query: str) -> bool:
    """Tell whether a question has no CJK character at all."""
    return _CJK.search(query) is None


def nothing_in_common(retrieval: Retrieval) -> bool:
    """Tell whether a question shares nothing with the corpus, so the corpus cannot answer it.

    That is a question without CJK none of whose words, nor of their translations, any
    paragraph has (`asdfghjkl`, `12345`, `How do I reset my iPhone password?`): the dense half
    still finds a closest paragraph, but close in style only. (A Chinese question is left to
    the model: its words may be unknown while its character pairs are not.)
    """
    return is_latin(retrieval.query) and retrieval.lexical_evidence <= 0.0


def logistic(intercept: float, coefficients: tuple[float, ...], inputs: tuple[float, ...]) -> float:
    """Return the probability a logistic model gives (its logit clipped to +-60)."""
    z = intercept + sum(c * x for c, x in zip(coefficients, inputs, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def probability(signals: Signals) -> float:
    """Return the calibrated probability that the best passage answers the question."""
    return logistic(INTERCEPT, COEFFICIENTS, astuple(signals))
