"""Tune the reader's re-ranking weight and "not found" line: python benchmarks/tune_reader.py.

Reads the hybrid's first candidates of every question with the passage reader once, then
tries each weight of the hybrid's score beside the reader's (search/rerank.py
FIRST_STAGE_WEIGHT) and each threshold (READER_THRESHOLD) on the cached readings.

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
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retrieval.config import load_settings  # noqa: E402
from retrieval.engine import Engine  # noqa: E402
from retrieval.eval.beir import load_dataset  # noqa: E402
from retrieval.eval.targets import GOLD_SET  # noqa: E402
from retrieval.search.rerank import READ_CANDIDATES  # noqa: E402

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
MAX_FLAGGED = 0.05


@dataclass
class Read:
    """One question's first candidates, their hybrid scores and reader logits."""

    qid: str
    split: str
    kind: str  # answerable, unanswerable, removed, offtopic
    rows: list[int]
    first: list[float]
    reader: list[float]
    gold: set[int]


def read_all(engine: Engine, cmrc: Path | None, limit: int) -> list[Read]:
    """Read the first candidates of every question (gold, answer-removed, off-topic)."""
    searcher = engine.searcher
    reranker = searcher.reranker("reader")
    reader = reranker.reader  # type: ignore[attr-defined]
    paragraphs = searcher.index.paragraphs
    gold = load_dataset(GOLD_SET, need_corpus=False)
    row_of = {p.id: i for i, p in enumerate(paragraphs)}
    jobs: list[tuple[str, str, str, str, set[int], set[int]]] = []
    for q in gold.queries:
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
        for q in load_dataset(cmrc, need_corpus=False).queries[:limit]:
            jobs.append((q.id, q.text, "dev", "offtopic", set(), set()))
    out = []
    for qid, text, split, kind, rels, removed in jobs:
        ranking = [(r, s) for r, s in searcher.rank(text, "hybrid") if r not in removed]
        top = ranking[:READ_CANDIDATES]
        readings = reader.read(text, [paragraphs[r].text for r, _ in top]) if top else []
        out.append(
            Read(
                qid,
                split,
                kind,
                [r for r, _ in top],
                [s for _, s in top],
                [x.score for x in readings],
                rels,
            )
        )
    return out


def best(read: Read, weight: float) -> tuple[int | None, float]:
    """Return the first row after re-ranking with this weight, and its reader logit."""
    if not read.rows:
        return None, -30.0
    fused = [r + weight * f for r, f in zip(read.reader, read.first, strict=True)]
    i = int(np.argmax(fused))
    return read.rows[i], read.reader[i]


def r_at_1(reads: list[Read], weight: float) -> float:
    answerable = [r for r in reads if r.kind == "answerable"]
    return sum(best(r, weight)[0] in r.gold for r in answerable) / max(1, len(answerable))


def p_answers(logit: float) -> float:
    return 1.0 / (1.0 + np.exp(-logit))


def flagged(reads: list[Read], weight: float, threshold: float, kind: str) -> float:
    chosen = [r for r in reads if r.kind == kind]
    if not chosen:
        return float("nan")
    return sum(p_answers(best(r, weight)[1]) < threshold for r in chosen) / len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cmrc", type=Path, help="cmrc2018-dev folder for off-topic questions")
    parser.add_argument("--limit", type=int, default=500, help="off-topic questions to use")
    parser.add_argument("--save", type=Path, help="write every question's readings here (JSON)")
    args = parser.parse_args()
    engine = Engine(load_settings())
    started = time.perf_counter()
    reads = read_all(engine, args.cmrc, args.limit)
    print(f"read {len(reads)} questions in {time.perf_counter() - started:.0f} s")
    if args.save:
        records = [{**r.__dict__, "gold": sorted(r.gold)} for r in reads]
        args.save.write_text(json.dumps(records), encoding="utf-8")
    dev = [r for r in reads if r.split == "dev"]
    test = [r for r in reads if r.split == "test"]
    for w in WEIGHTS:
        print(f"weight {w:4}: R@1 dev {r_at_1(dev, w):.3f}  test {r_at_1(test, w):.3f}")
    weight = max(WEIGHTS, key=lambda w: (round(r_at_1(dev, w), 3), -abs(w - 0.5)))
    # The threshold: at most 5% of the dev half's answerable questions flagged.
    answerable = sorted(p_answers(best(r, weight)[1]) for r in dev if r.kind == "answerable")
    threshold = float(answerable[int(np.floor(MAX_FLAGGED * len(answerable)))])
    print(f"FIRST_STAGE_WEIGHT = {weight}\nREADER_THRESHOLD = {threshold:.3f}")
    kinds = ("answerable", "unanswerable", "near-topic", "no-cjk", "removed", "offtopic")
    for name, half in (("dev", dev), ("test", test)):
        rates = ", ".join(f"{k} {flagged(half, weight, threshold, k):.1%}" for k in kinds)
        print(f"flagged on {name}: {rates}")
    print("curve (test half): threshold, then flagged share of each kind:", ", ".join(kinds))
    for t in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        print(f"  {t:.2f}  " + "  ".join(f"{flagged(test, weight, t, k):.3f}" for k in kinds))


if __name__ == "__main__":
    main()
