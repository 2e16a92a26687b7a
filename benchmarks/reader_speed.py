"""Compare the passage reader's backends: torch fp32 / int8 and ONNX Runtime fp32 / int8.

Run: python benchmarks/reader_speed.py [--threads 2] [--k 5] [--questions 200] [--runs 3]

Every variant runs in its own process (load time and peak memory are its own) on the same
inputs: held-out questions (training/data.py's dev split: CMRC 2018 trial and a tenth of DRCD,
never trained on) with BM25's top k paragraphs of the held-out paragraphs as candidates.
Per question it times reader.read(question, k candidates); p50 and p95 are taken per run
and the median over runs is reported, on two input sets: the held-out questions (their
paragraphs are long: every window is the full 128 tokens, the worst case) and the sample
questions over the bundled page's paragraphs (the served case: shorter paragraphs).
Quality on the same held-out questions shows whether the faster variants read as well:
R@1 after re-ranking (BM25 alone beside it), span F1 where the gold paragraph is a
candidate, and the "not found" rates (answerable questions with no candidate above 0; the
same questions with their gold paragraph removed).
Budget (issue 11): about 35 ms a question for ~5 candidates on 1-2 threads.

A variant may name another artifact than the shipped one, BACKEND@PATH (a training run's
output, e.g. `--variants onnx-int8,onnx-int8@.qabot/training/reader-l8.safetensors`), to
compare readers of other shapes side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

VARIANTS = ("torch", "torch-int8", "onnx", "onnx-int8")
PAGE = REPO / "corpus" / "shanxi-taiyuan-news-2023-08-30.md"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def char_f1(pred: str, gold: str) -> float:
    """Character-level F1, the CMRC 2018 way (no word segmentation)."""
    counts: dict[str, int] = {}
    for ch in gold:
        counts[ch] = counts.get(ch, 0) + 1
    common = 0
    for ch in pred:
        if counts.get(ch, 0) > 0:
            common += 1
            counts[ch] -= 1
    if not common:
        return 0.0
    p, r = common / len(pred), common / len(gold)
    return 2 * p * r / (p + r)


def latency(
    reader: object, questions: list[str], passage_sets: list[list[str]], runs: int
) -> tuple[float, float]:
    """Return the median over runs of the per-question p50 and p95 in ms."""
    read = reader.read  # type: ignore[attr-defined]
    for q, ps in zip(questions[:5], passage_sets, strict=False):  # warm-up
        read(q, ps)
    p50s, p95s = [], []
    for _ in range(runs):
        times = []
        for q, ps in zip(questions, passage_sets, strict=True):
            t = time.perf_counter()
            read(q, ps)
            times.append((time.perf_counter() - t) * 1000)
        p50s.append(percentile(times, 0.5))
        p95s.append(percentile(times, 0.95))
    return round(statistics.median(p50s), 1), round(statistics.median(p95s), 1)


def page_inputs(k: int) -> tuple[list[str], list[list[str]]]:
    """Return the sample questions with BM25's top k paragraphs of the bundled page."""
    from benchmarks.questions import SAMPLE
    from training.data import Paragraph, bm25_candidates

    text = PAGE.read_text(encoding="utf-8")
    blocks = [b.strip() for b in text.split("\n\n") if b.strip() and not b.startswith("#")]
    paragraphs = [Paragraph("page", "page", b) for b in blocks]
    cands = bm25_candidates(paragraphs, SAMPLE, k)
    return list(SAMPLE), [[blocks[c] for c in row] for row in cands]


def child(variant: str, threads: int, k: int, n_questions: int, runs: int) -> dict[str, object]:
    """Load one variant, measure it, and return its figures (run in a fresh process)."""
    import numpy as np

    backend, _, artifact = variant.partition("@")
    started = time.perf_counter()
    if backend.startswith("torch"):
        import torch

        torch.set_num_threads(threads)
    from retrieval.read.reader import PassageReader

    if artifact:
        reader = PassageReader.load(backend, threads=threads, artifact=Path(artifact), sha256=None)
    else:
        reader = PassageReader.load(backend, threads=threads)
    load_s = time.perf_counter() - started
    rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    from training.data import bm25_candidates, load_split

    paragraphs, questions = load_split()["dev"]
    # Every third question: spread over articles, the same ones for every variant.
    questions = questions[::3][:n_questions]
    cands = bm25_candidates(paragraphs, [q.text for q in questions], k + 1)

    hits = bm25_hits = answered_flagged = removed_flagged = 0
    f1s: list[float] = []
    for q, row in zip(questions, cands, strict=True):
        top = [int(c) for c in row[:k]]
        readings = reader.read(q.text, [paragraphs[c].text for c in row])
        scores = [r.score for r in readings[:k]]
        hits += top[int(np.argmax(scores))] == q.paragraph
        bm25_hits += top[0] == q.paragraph
        answered_flagged += max(scores) < 0
        others = [r.score for c, r in zip(row, readings, strict=True) if c != q.paragraph][:k]
        removed_flagged += max(others) < 0
        if q.paragraph in top:
            span = readings[top.index(q.paragraph)].span
            text = paragraphs[q.paragraph].text
            f1s.append(char_f1(text[span[0] : span[1]], q.answer) if span else 0.0)

    timing = [q.text for q in questions[:60]]
    dev_sets = [[paragraphs[c].text for c in row[:k]] for row in cands[: len(timing)]]
    p50, p95 = latency(reader, timing, dev_sets, runs)
    page_q, page_sets = page_inputs(k)
    page_p50, page_p95 = latency(reader, page_q, page_sets, runs)
    n = len(questions)
    return {
        "backend": f"{backend}@{Path(artifact).stem}" if artifact else backend,
        "threads": threads,
        "k": k,
        "load_s": round(load_s, 3),
        "rss_after_load_mb": round(rss_after_load, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "p50_ms": p50,
        "p95_ms": p95,
        "page_p50_ms": page_p50,
        "page_p95_ms": page_p95,
        "questions": n,
        "bm25_r1": round(bm25_hits / n, 4),
        "reader_r1": round(hits / n, 4),
        "span_f1": round(float(np.mean(f1s)), 4),
        "answerable_flagged": round(answered_flagged / n, 4),
        "removed_flagged": round(removed_flagged / n, 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="threads, as served (1 or 2)")
    parser.add_argument("--k", type=int, default=5, help="candidates read per question")
    parser.add_argument("--questions", type=int, default=200, help="held-out questions")
    parser.add_argument("--runs", type=int, default=3, help="timing runs (median reported)")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks/results/reader_speed.json")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        figures = child(args.child, args.threads, args.k, args.questions, args.runs)
        print(json.dumps(figures))
        return 0

    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    variants = args.variants.split(",")
    base = [sys.executable, __file__, "--threads", str(args.threads), "--k", str(args.k)]
    for variant in variants:
        if variant.startswith("onnx"):  # export once, so that load time is the cached load
            subprocess.run(
                [*base, "--child", variant, "--questions", "1", "--runs", "1"],
                env=env,
                check=True,
                capture_output=True,
                cwd=REPO,
            )
    rows = []
    for variant in variants:
        out = subprocess.run(
            [
                *base,
                "--child",
                variant,
                "--questions",
                str(args.questions),
                "--runs",
                str(args.runs),
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    fastest = min(r["p50_ms"] for r in rows)
    width = max(11, *(len(str(r["backend"])) for r in rows))
    header = (
        f"{'variant':<{width}} {'p50 ms':>7} {'p95 ms':>7} {'x fastest':>9} {'page p50':>8} "
        f"{'page p95':>8} {'load s':>7} {'load MB':>8} "
        f"{'peak MB':>8} {'R@1':>6} {'BM25 R@1':>8} {'span F1':>7} {'ans flag':>8} "
        f"{'rem flag':>8}"
    )
    print(
        f"{args.k} candidates, {args.threads} thread(s), {rows[0]['questions']} held-out questions"
    )
    print(header)
    for r in rows:
        print(
            f"{r['backend']:<{width}} {r['p50_ms']:>7} {r['p95_ms']:>7} "
            f"{r['p50_ms'] / fastest:>9.2f} {r['page_p50_ms']:>8} {r['page_p95_ms']:>8} "
            f"{r['load_s']:>7} {r['rss_after_load_mb']:>8} {r['peak_rss_mb']:>8} "
            f"{r['reader_r1']:>6} {r['bm25_r1']:>8} {r['span_f1']:>7} "
            f"{r['answerable_flagged']:>8} {r['removed_flagged']:>8}"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
