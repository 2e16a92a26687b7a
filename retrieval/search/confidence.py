"""Tell whether the corpus answers a question: a small calibrated model over retrieval signals."""

from __future__ import annotations

import math
import re
from dataclasses import astuple, dataclass

# Raw e5 cosines bunch up between 0.8 and 0.9 for answerable and unanswerable questions alike,
# so no fixed cut-off on them works. These four signals together do better:
#   cosine    the best dense cosine (absolute closeness, weak on its own),
#   dense_z   how far it stands above this question's cosines to the whole corpus (z-score),
#   coverage  the idf-weighted share of the question's words the best passage contains,
#   latin     1 for a question without any CJK character: its coverage is that of the corpus
#             words translating it (search/translate.py), which cover less than a Chinese
#             question's own words would.
# Coefficients of a weighted logistic regression (L2, C=1) over the data benchmarks/calibrate.py
# describes: 1,500 cmrc2018-dev questions with and without their gold paragraph, cmrc questions
# asked of our corpus and ours of cmrc2018-dev (off-topic), and the dev half of corpus/gold
# (weight 20). The test half was not used. Refit with that script when the model, the fusion
# or the tokenizer changes.
COEFFICIENTS = (10.824, 0.358, 6.224, 3.050)
INTERCEPT = -13.495
# Chosen on the dev half of corpus/gold so that at most 5% of answerable questions are flagged.
THRESHOLD = 0.096

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


def probability(signals: Signals) -> float:
    """Return the calibrated probability that the best passage answers the question."""
    logit = INTERCEPT + sum(c * x for c, x in zip(COEFFICIENTS, astuple(signals), strict=True))
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))
