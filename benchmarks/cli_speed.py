"""Measure the seed index build, `qabot ask` wall time and memory, and in-process query latency.

Run: python benchmarks/cli_speed.py [--runs N] [--json FILE] [--method reader]
Targets (issue 2): build <= 10 s once the model is ready; `qabot ask` median <= 1.5 s and peak
memory <= 400 MB with a built index; in-process query p50 <= 20 ms. With the passage reader
(`--method reader`, issue 11): `qabot ask` <= 1.5 s, peak memory <= 600 MB, p50 <= 60 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.questions import SAMPLE as QUESTIONS  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


TARGETS = {  # method: (peak RSS MB, in-process p50 ms)
    "hybrid": (400, 20),
    "reader": (600, 60),
}


def run_ask(question: str, method: str, env: dict[str, str]) -> float:
    """Run `qabot ask` once as a user would; return its wall time in seconds."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "ask", question, "--method", method],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def peak_rss_mb(question: str, method: str, env: dict[str, str]) -> float:
    """Return the peak RSS of one `qabot ask`, measured by GNU time in its own process tree."""
    ask = [sys.executable, "-m", "bot.cli.main", "ask", question, "--method", method]
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *ask],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stderr.strip().splitlines()[-1]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="`qabot ask` runs (default 10)")
    parser.add_argument(
        "--json",
        type=Path,
        help="where to write the figures (default: "
        "benchmarks/results/cli_speed.json, cli_speed-METHOD.json for others)",
    )
    parser.add_argument("--method", choices=sorted(TARGETS), default="hybrid")
    args = parser.parse_args()
    suffix = "" if args.method == "hybrid" else f"-{args.method}"
    out = args.json or REPO / f"benchmarks/results/cli_speed{suffix}.json"
    max_rss, max_p50 = TARGETS[args.method]

    from retrieval.config import Settings, load_settings
    from retrieval.embed import default_model_folder
    from retrieval.engine import Engine
    from retrieval.ingest import load_documents
    from retrieval.store.index import build_index

    settings = load_settings()
    default_model_folder(settings.models_dir)  # the model is made ready before timing
    engine = Engine(settings)
    encoder = engine.encoder("sentence-transformers")
    documents, _ = load_documents(settings.corpus)
    with tempfile.TemporaryDirectory() as tmp:
        builds: list[float] = []
        for _ in range(3):
            started = time.perf_counter()
            build_index(Path(tmp) / f"idx{len(builds)}", documents, encoder, lambda _: None, False)
            builds.append(time.perf_counter() - started)
    build_s = statistics.median(builds)

    engine.ensure_index()
    searcher = Engine(Settings(home=settings.home, corpus=settings.corpus)).searcher
    searcher.search(QUESTIONS[0], method=args.method)  # load the models outside the timing
    latencies = []
    for _ in range(5):
        for q in QUESTIONS:
            started = time.perf_counter()
            searcher.search(q, k=3, method=args.method)
            latencies.append((time.perf_counter() - started) * 1000)

    env = {**os.environ, "QABOT_ENGINE": "auto"}
    walls = [run_ask(QUESTIONS[i % len(QUESTIONS)], args.method, env) for i in range(args.runs)]
    memory = [peak_rss_mb(QUESTIONS[i], args.method, env) for i in range(3)]

    result = {
        "method": args.method,
        "paragraphs": searcher.index.manifest.count,
        "index_build_s_median_of_3": round(build_s, 2),
        "ask_wall_s_median": round(statistics.median(walls), 3),
        "ask_wall_s_max": round(max(walls), 3),
        "ask_peak_rss_mb_median": round(statistics.median(memory), 1),
        "query_ms_p50": round(percentile(latencies, 0.5), 2),
        "query_ms_p95": round(percentile(latencies, 0.95), 2),
        "runs": args.runs,
        "cpu_count": os.cpu_count(),
    }
    print(f"{'measure':32} {'value':>10}  target")
    print(f"{'index build, seed (s)':32} {result['index_build_s_median_of_3']:>10}  <= 10")
    print(f"{'qabot ask wall, median (s)':32} {result['ask_wall_s_median']:>10}  <= 1.5")
    rss = result["ask_peak_rss_mb_median"]
    print(f"{'qabot ask peak RSS, median (MB)':32} {rss:>10}  <= {max_rss}")
    print(f"{'in-process query p50 (ms)':32} {result['query_ms_p50']:>10}  <= {max_p50}")
    print(f"{'in-process query p95 (ms)':32} {result['query_ms_p95']:>10}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
