"""Fit the confidence model of retrieval/confidence.py: python benchmarks/calibrate.py CMRC_DIR.

Examples (label 1 = the best passage answers the question, 0 = the corpus has no answer):

- cmrc2018-dev questions over their corpus (1), and the same questions with their gold
  paragraph taken out of the ranking (0: near misses, the rest of the article is still there);
- cmrc2018-dev questions asked of our corpus, and our gold questions asked of cmrc2018-dev (0:
  off-topic);
- the dev half of corpus/gold over our corpus (answerable 1, unanswerable 0), weighted 20x,
  since those are the questions qabot is for.

Questions the served path never gives a probability to are left out: those refused before the
index (no words, small talk, a lone §N) and those sharing nothing with the corpus
(nothing_in_common).

The test half of corpus/gold is never used here. The threshold is set so that at most 5% of
the dev half's answerable questions are flagged. Prints the constants to paste.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retrieval.config import load_settings  # noqa: E402
from retrieval.engine import Engine  # noqa: E402
from retrieval.errors import QabotError  # noqa: E402
from retrieval.eval.beir import Query, load_dataset  # noqa: E402
from retrieval.eval.targets import Target, open_beir, open_gold  # noqa: E402
from retrieval.search import Searcher, check_question  # noqa: E402
from retrieval.search.confidence import nothing_in_common  # noqa: E402

GOLD_WEIGHT = 20.0
MAX_FLAGGED = 0.05


def refused(question: str) -> bool:
    """Tell whether the served path refuses the question before the index (no words, small
    talk): it never gets a probability."""
    try:
        check_question(question)
    except QabotError:
        return True
    return False


def served(searcher: Searcher, queries: list[Query]) -> list[Query]:
    """Return the questions the served path gives a probability to: not refused, and sharing
    something with the corpus (confidence.nothing_in_common)."""
    return [
        q
        for q in queries
        if not refused(q.text) and not nothing_in_common(searcher.retrieve(q.text))
    ]


def features(
    searcher: Searcher,
    queries: list[Query],
    row_of: dict[str, int],
    qrels: dict[str, dict[str, int]],
    mask: bool = False,
) -> np.ndarray:
    """Return the confidence signals of each question (gold rows removed when mask)."""
    out = []
    for q in queries:
        retrieval = searcher.retrieve(q.text)
        if mask:
            retrieval = retrieval.without({row_of[p] for p in qrels.get(q.id, {}) if p in row_of})
        ranking = searcher.hybrid(retrieval)
        out.append(dataclasses.astuple(searcher.signals(retrieval, ranking)))
    return np.array(out, dtype=np.float64)


def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = 1.0) -> np.ndarray:
    """Fit weighted logistic regression (L2 = 1, as scikit-learn C=1) by Newton; [b, coef...]."""
    a = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(a.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-np.clip(a @ beta, -60, 60)))
        grad = a.T @ (w * (p - y)) + l2 * np.r_[0, beta[1:]]
        ridge = l2 * np.diag(np.r_[0, np.ones(len(beta) - 1)])
        hess = (a * (w * p * (1 - p))[:, None]).T @ a + ridge
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return beta


def rows_by_id(target: Target) -> dict[str, int]:
    return {target.row_id(r): r for r in range(target.paragraphs)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cmrc", type=Path, help="the cmrc2018-dev BEIR folder")
    parser.add_argument("--limit", type=int, default=1500, help="cmrc questions used")
    args = parser.parse_args()
    engine = Engine(load_settings())
    cmrc = open_beir(load_dataset(args.cmrc), engine)
    gold = open_gold(engine)
    cq = served(cmrc.searcher, cmrc.dataset.answerable[: args.limit])
    dev = served(gold.searcher, [q for q in gold.dataset.queries if q.meta.get("split") == "dev"])
    parts: list[tuple[np.ndarray, np.ndarray, float]] = []
    c_rows = rows_by_id(cmrc)
    x = features(cmrc.searcher, cq, c_rows, cmrc.dataset.qrels)
    parts.append((x, np.ones(len(x)), 1.0))
    x = features(cmrc.searcher, cq, c_rows, cmrc.dataset.qrels, mask=True)
    parts.append((x, np.zeros(len(x)), 1.0))
    x = features(gold.searcher, served(gold.searcher, cmrc.dataset.queries[::3]), {}, {})
    parts.append((x, np.zeros(len(x)), 1.0))
    x = features(cmrc.searcher, served(cmrc.searcher, gold.dataset.queries), {}, {})
    parts.append((x, np.zeros(len(x)), 1.0))
    g_rows = rows_by_id(gold)
    xd = features(gold.searcher, dev, g_rows, gold.dataset.qrels)
    yd = np.array([1.0 if gold.dataset.qrels.get(q.id) else 0.0 for q in dev])
    parts.append((xd, yd, GOLD_WEIGHT))
    x = np.vstack([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    w = np.concatenate([np.full(len(p[1]), p[2]) for p in parts])
    beta = fit_logistic(x, y, w)
    prob = 1 / (1 + np.exp(-(beta[0] + xd @ beta[1:])))
    answerable = np.sort(prob[yd == 1])
    threshold = float(answerable[int(np.floor(MAX_FLAGGED * len(answerable)))])
    print(f"COEFFICIENTS = ({', '.join(f'{b:.3f}' for b in beta[1:])})")
    print(f"INTERCEPT = {beta[0]:.3f}")
    print(f"THRESHOLD = {threshold:.3f}")
    flagged = float(np.mean(prob[yd == 0] < threshold)) if (yd == 0).any() else float("nan")
    share = float(np.mean(prob[yd == 1] < threshold))
    print(f"dev: {share:.1%} of answerable flagged, {flagged:.1%} of unanswerable", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
