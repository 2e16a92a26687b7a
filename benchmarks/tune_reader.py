"""Tune the reader's re-ranking weights and "not found" model: python benchmarks/tune_reader.py.

Reads the hybrid's first candidates of every question with the passage reader once, then
on the cached readings: tries each weight of the hybrid's score beside the reader's
(search/rerank.py FIRST_STAGE_WEIGHT, and LATIN_READER_WEIGHT for questions without CJK),
fits the confidence model (CONFIDENCE_COEFFICIENTS, CONFIDENCE_INTERCEPT) and sets
READER_THRESHOLD. Prints the constants to paste.

Questions (label 1 = the corpus answers it):
- the gold set (corpus/gold) over the bundled corpus: answerable (1), unanswerable (0: near-
  topic, off-topic, no Chinese content);
- answer-removed: each answerable gold question with its gold paragraphs taken out of the
  ranking (0: the rest of its article is still there, the hardest negatives);
- off-topic: cmrc2018-dev questions asked of our corpus (0), when --cmrc DIR is given.

Weights and the threshold are chosen on the dev half of the gold set (and the negatives made
from it); the test half is reported, never used to choose. Prints the curve of flagged
unanswerable vs flagged answerable for docs/quality.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.calibrate import fit_logistic, refused  # noqa: E402
from retrieval.config import load_settings  # noqa: E402
from retrieval.engine import Engine  # noqa: E402
from retrieval.eval.beir import load_dataset  # noqa: E402
from retrieval.eval.targets import GOLD_SET  # noqa: E402
from retrieval.search.confidence import is_latin  # noqa: E402
from retrieval.search.rerank import READ_CANDIDATES, confidence_inputs  # noqa: E402

# math.inf: the hybrid's order kept, the reader only judges whether the first passage answers.
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, math.inf)
LATIN_WEIGHTS = (0.0, 0.1, 0.25, 0.5, 1.0)
MAX_FLAGGED = 0.05
# Weight of each kind of dev example in the confidence fit: the gold questions are what qabot
# is for; the made-up negatives (answer-removed, off-topic) are many, so each counts less.
FIT_WEIGHTS = {
    "answerable": 4.0,
    "unanswerable": 4.0,
    "near-topic": 4.0,
    "no-cjk": 4.0,
    "removed": 1.0,
    "offtopic": 0.5,
}
KINDS = tuple(FIT_WEIGHTS)


@dataclass
class Read:
    """One question's first candidates, their hybrid scores, reader logits and prior."""

    qid: str
    split: str
    kind: str  # answerable, unanswerable, near-topic, no-cjk, removed, offtopic
    latin: bool
    prior: float  # the first stage's confidence (search/confidence.py)
    rows: list[int]
    first: list[float]
    reader: list[float]
    gold: set[int]


def read_all(
    engine: Engine, cmrc: Path | None, limit: int, artifact: Path | None = None
) -> list[Read]:
    """Read the first candidates of every question (gold, answer-removed, off-topic), with
    the shipped reader or, given `artifact`, a trained candidate (its checksum unchecked)."""
    searcher = engine.searcher
    if artifact is None:
        reader = searcher.reranker("reader").reader  # type: ignore[attr-defined]
    else:
        from retrieval.read.reader import PassageReader

        reader = PassageReader.load(
            artifact=artifact, sha256=None, cache_dir=artifact.parent / "onnx"
        )
    paragraphs = searcher.index.paragraphs
    gold = load_dataset(GOLD_SET, need_corpus=False)
    row_of = {p.id: i for i, p in enumerate(paragraphs)}
    jobs: list[tuple[str, str, str, str, set[int], set[int]]] = []
    for q in gold.queries:
        if refused(q.text):
            continue  # served, it never reaches the index (no words, small talk, a lone §N)
        rels = {row_of[p] for p in gold.qrels.get(q.id, {}) if p in row_of}
        split = q.meta.get("split", "dev")
        kind = "answerable" if rels else "unanswerable"
        if q.meta.get("near_topic") == "True":
            kind = "near-topic"
        elif q.meta.get("no_cjk") == "True":
            kind = "no-cjk"
        jobs.append((q.id, q.text, split, kind, rels, set()))
        if rels:
            jobs.append((q.id + "-removed", q.text, split, "removed", set(), rels))
    if cmrc is not None:
        queries = load_dataset(cmrc, need_corpus=False).queries[:limit]
        for i, q in enumerate(queries):
            # Half tune, half report: off-topic questions are split like the gold set.
            jobs.append((q.id, q.text, "dev" if i % 2 == 0 else "test", "offtopic", set(), set()))
    out = []
    for qid, text, split, kind, rels, removed in jobs:
        retrieval = searcher.retrieve(text).without(removed)
        ranking = searcher.hybrid(retrieval)
        prior = searcher.first_stage_confidence(retrieval, ranking)
        top = ranking[:READ_CANDIDATES]
        readings = reader.read(text, [paragraphs[r].text for r, _ in top]) if top else []
        out.append(
            Read(
                qid,
                split,
                kind,
                is_latin(text),
                prior,
                [r for r, _ in top],
                [s for _, s in top],
                [x.score for x in readings],
                rels,
            )
        )
    return out


@dataclass(frozen=True)
class Weights:
    """The re-ranking weights tried: first stage, and the reader's say on Latin questions."""

    first: float
    latin_reader: float


def chosen(read: Read, w: Weights) -> int:
    """Return the index (into read.rows) of the first passage after re-ranking."""
    if math.isinf(w.first):
        return 0
    say = w.latin_reader if read.latin else 1.0
    fused = [say * r + w.first * f for r, f in zip(read.reader, read.first, strict=True)]
    return int(np.argmax(fused))


def r_at_1(reads: list[Read], w: Weights) -> float:
    answerable = [r for r in reads if r.kind == "answerable"]
    return sum(r.rows[chosen(r, w)] in r.gold for r in answerable) / max(1, len(answerable))


def features(reads: list[Read], w: Weights) -> np.ndarray:
    """Return the confidence model's inputs for each question (rerank.confidence_inputs)."""
    rows = []
    for r in reads:
        z = r.reader[chosen(r, w)] if r.rows else -30.0
        rows.append(confidence_inputs(z, r.prior, r.latin))
    return np.array(rows, dtype=np.float64)


def flagged(reads: list[Read], prob: np.ndarray, threshold: float, kind: str) -> float:
    mask = np.array([r.kind == kind for r in reads])
    return float(np.mean(prob[mask] < threshold)) if mask.any() else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cmrc", type=Path, help="cmrc2018-dev folder for off-topic questions")
    parser.add_argument("--limit", type=int, default=500, help="off-topic questions to use")
    parser.add_argument("--save", type=Path, help="write every question's readings here (JSON)")
    parser.add_argument("--load", type=Path, help="tune on readings saved by --save")
    parser.add_argument(
        "--artifact",
        type=Path,
        help="read with this trained reader instead of the shipped one (a training run's "
        "output, before it replaces retrieval/read/reader-v1.safetensors)",
    )
    args = parser.parse_args()
    if args.load:
        records = json.loads(args.load.read_text(encoding="utf-8"))
        reads = [Read(**{**r, "gold": set(r["gold"])}) for r in records]
    else:
        engine = Engine(load_settings())
        started = time.perf_counter()
        reads = read_all(engine, args.cmrc, args.limit, args.artifact)
        print(f"read {len(reads)} questions in {time.perf_counter() - started:.0f} s")
    if args.save:
        records = [{**r.__dict__, "gold": sorted(r.gold)} for r in reads]
        args.save.write_text(json.dumps(records), encoding="utf-8")
    dev = [r for r in reads if r.split == "dev"]
    test = [r for r in reads if r.split == "test"]
    dev_cjk = [r for r in dev if not r.latin]
    dev_latin = [r for r in dev if r.latin]
    for first in WEIGHTS:
        w = Weights(first, 1.0)
        print(f"first-stage weight {first:4}: R@1 dev CJK {r_at_1(dev_cjk, w):.3f}")
    first = max(WEIGHTS, key=lambda x: (round(r_at_1(dev_cjk, Weights(x, 1.0)), 3), x))
    for say in LATIN_WEIGHTS:
        r1 = r_at_1(dev_latin, Weights(first, say))
        print(f"Latin reader weight {say:4}: R@1 dev Latin {r1:.3f}")
    say = max(LATIN_WEIGHTS, key=lambda x: (round(r_at_1(dev_latin, Weights(first, x)), 3), -x))
    best = Weights(first, say)
    hybrid = Weights(math.inf, 0.0)  # the first stage alone
    for name, half in (("dev", dev), ("test", test)):
        latin = [r for r in half if r.latin]
        print(
            f"R@1 {name}: re-ranked {r_at_1(half, best):.3f} (Latin {r_at_1(latin, best):.3f}), "
            f"hybrid {r_at_1(half, hybrid):.3f} (Latin {r_at_1(latin, hybrid):.3f})"
        )
    x = features(dev, best)
    y = np.array([1.0 if r.kind == "answerable" else 0.0 for r in dev])
    wt = np.array([FIT_WEIGHTS[r.kind] for r in dev])
    beta = fit_logistic(x, y, wt)
    prob_dev = 1 / (1 + np.exp(-(beta[0] + x @ beta[1:])))
    prob_test = 1 / (1 + np.exp(-(beta[0] + features(test, best) @ beta[1:])))
    answerable = np.sort(prob_dev[y == 1])
    threshold = float(answerable[int(np.floor(MAX_FLAGGED * len(answerable)))])
    print(f"FIRST_STAGE_WEIGHT = {best.first}\nLATIN_READER_WEIGHT = {best.latin_reader}")
    print(f"CONFIDENCE_COEFFICIENTS = ({', '.join(f'{b:.3f}' for b in beta[1:])})")
    print(f"CONFIDENCE_INTERCEPT = {beta[0]:.3f}\nREADER_THRESHOLD = {threshold:.3f}")
    for name, half, prob in (("dev", dev, prob_dev), ("test", test, prob_test)):
        rates = ", ".join(f"{k} {flagged(half, prob, threshold, k):.1%}" for k in KINDS)
        print(f"flagged on {name}: {rates}")
    print("curve (test half): threshold, then flagged share of each kind:", ", ".join(KINDS))
    for t in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        print(f"  {t:.2f}  " + "  ".join(f"{flagged(test, prob_test, t, k):.3f}" for k in KINDS))


if __name__ == "__main__":
    main()
