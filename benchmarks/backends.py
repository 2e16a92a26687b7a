"""Run the same corpus and questions through FAISS, Milvus Lite and a Milvus server, side by side.

Run: python benchmarks/backends.py [--sizes 10000,100000] [--queries 300] [--milvus-uri URI]

What is measured, for each backend and index type, in one run:
- build s: the whole `build_index` (parse excluded), and within it the vector store alone
  (FAISS index in memory and on disk; Milvus: insert, flush, index, load, count check);
- load s: opening the built index again (Milvus: record, index and load checks);
- dense p50/p95/p99 ms: one question's top-100 from the vector store (what the searcher asks);
- hybrid p50/p95 ms: the full hybrid ranking (dense + BM25 + fusion) for one question;
- R@10: recall of the store's top-10 against exact inner-product search (FAISS flat);
- memory: this (client) process's resident set after the configuration's questions, and the
  Milvus process's (Lite's server, or the standalone server) now and at its peak.
Two corpora: the bundled page with the real default model and the gold questions, and a
synthetic corpus (as in benchmarks/scale.py: Chinese words drawn from the page, clustered unit
vectors, questions near random paragraphs). Question encoding is excluded: it is the same for
both backends. Milvus Lite runs in a temporary folder; Milvus Lite builds only FLAT and
IVF_FLAT. The server is a standalone Milvus 2.3.5 from PyPI (`pip install milvus==2.3.5`),
started fresh for each configuration in a network namespace of its own and reached over TCP
on 127.0.0.1 through a relay (tests/support/milvus_server.py; needs root), or the server at
--milvus-uri. Without either, the server rows are left out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from scale import QUERY_NOISE, SyntheticEncoder, vocabulary, write_corpus  # noqa: E402

from retrieval.config import BUNDLED_CORPUS, DEFAULT_MODEL, Settings, load_settings  # noqa: E402
from retrieval.ingest import corpus_fingerprint, find_corpus_files, load_documents  # noqa: E402
from retrieval.search import Searcher  # noqa: E402
from retrieval.store.base import StoreBackend  # noqa: E402
from retrieval.store.faiss_store import FaissBackend, FaissStore  # noqa: E402
from retrieval.store.index import LoadedIndex, build_index, load_index  # noqa: E402
from retrieval.store.milvus import MilvusBackend  # noqa: E402
from retrieval.store.registry import open_backend  # noqa: E402

CONFIGS = (
    ("faiss", "flat"),
    ("faiss", "hnsw"),
    ("lite", "flat"),
    ("lite", "ivf"),
    ("server", "flat"),
    ("server", "hnsw"),
)
DEPTH = 100
NAMES = {"faiss": "FAISS", "lite": "Milvus Lite", "server": "Milvus server"}


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """Return a process's resident memory (VmRSS) or its peak (VmHWM) in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def lite_server_pid() -> int | None:
    """Return the PID of the Milvus Lite server this process started, if it runs one."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and b"milvus" in cmdline:
            return int(stat.parent.name)
    return None


class Deployment:
    """A backend to measure: FAISS, Milvus Lite (a file), or a Milvus server (started here)."""

    def __init__(self, name: str, work: Path, uri: str | None) -> None:
        self.name, self.work, self.uri = name, work, uri
        self.server: Any = None
        self.store: StoreBackend | None = None

    def __enter__(self) -> Deployment:
        if self.name == "faiss":
            self.store = open_backend("faiss")
        elif self.name == "lite":
            self.store = MilvusBackend.connect(str(self.work / "bench.db"))
        else:
            if self.uri is None:
                from tests.support.milvus_server import MilvusServer

                self.server = MilvusServer(self.work / "server")
                self.server.start()
            self.store = MilvusBackend.connect(self.uri or self.server.uri)
        return self

    def milvus_pid(self) -> int | None:
        if self.server is not None:
            return int(self.server.pid)
        return lite_server_pid() if self.name == "lite" else None

    def __exit__(self, *exc: object) -> None:
        if self.store is not None:
            self.store.close()
        if self.server is not None:
            self.server.close()


class CachedEncoder:
    """Vectors worked out once, served by text: the backends are timed, not the model."""

    def __init__(self, model: str, dim: int, vectors: dict[str, np.ndarray]) -> None:
        self.model, self.dim, self.vectors = model, dim, vectors

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return np.vstack([self.vectors[t] for t in texts]).astype(np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_passages(texts)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_ms(fn: Callable[[int], object], count: int) -> list[float]:
    out = []
    for i in range(count):
        started = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


class StoreTimer:
    """Time the vector-store part of a build by wrapping the backends' builds and FAISS's save."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._originals: list[tuple[Any, str, Any]] = []

    def wrap(self, owner: Any, name: str) -> None:
        original = getattr(owner, name)
        self._originals.append((owner, name, original))

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        setattr(owner, name, timed)

    def __enter__(self) -> StoreTimer:
        self.wrap(FaissBackend, "build")
        self.wrap(FaissStore, "save")
        self.wrap(MilvusBackend, "build")
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in self._originals:
            setattr(owner, name, original)


def run_config(
    backend: str,
    kind: str,
    corpus: Path,
    home: Path,
    encoder: Any,
    store_backend: StoreBackend,
    questions: list[str],
    vectors: np.ndarray,
) -> tuple[dict[str, object], np.ndarray]:
    """Build, reload and query one backend and index type; return figures and top-10 rows."""
    settings = Settings(corpus=(corpus,), home=home / f"{backend}-{kind}", model=encoder.model)
    documents, _ = load_documents([corpus])
    fingerprint = corpus_fingerprint(find_corpus_files([corpus]))
    started = time.perf_counter()
    with StoreTimer() as store_timer:
        build_index(
            settings.index_dir,
            documents,
            encoder,
            lambda _: None,
            progress=False,
            index_type=kind,
            fingerprint=fingerprint,
            backend=store_backend,
        )
    build_s = time.perf_counter() - started
    del documents
    started = time.perf_counter()
    index: LoadedIndex = load_index(settings.index_dir, store_backend)
    load_s = time.perf_counter() - started
    store = index.vectors
    store.search(vectors[:1], DEPTH)  # the first call pays for connections and caches
    dense = timed_ms(lambda i: store.search(vectors[i : i + 1], DEPTH), len(vectors))
    searcher = Searcher(index, lambda: encoder)
    searcher.rank(questions[0], "hybrid")
    hybrid = timed_ms(lambda i: searcher.rank(questions[i], "hybrid"), len(questions))
    _, top10 = store.search(vectors, 10)
    figures: dict[str, object] = {
        "backend": backend,
        "index": kind,
        "build_s": round(build_s, 2),
        "store_build_s": round(store_timer.seconds, 2),
        "load_s": round(load_s, 3),
        "dense_p50_ms": round(percentile(dense, 0.5), 3),
        "dense_p95_ms": round(percentile(dense, 0.95), 3),
        "dense_p99_ms": round(percentile(dense, 0.99), 3),
        "hybrid_p50_ms": round(percentile(hybrid, 0.5), 3),
        "hybrid_p95_ms": round(percentile(hybrid, 0.95), 3),
        "client_rss_mb": memory_mb(os.getpid()),
    }
    return figures, top10


def recall_at_10(truth: np.ndarray, found: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found, strict=True)]))


def compare(
    name: str,
    corpus: Path,
    work: Path,
    encoder: Any,
    questions: list[str],
    vectors: np.ndarray,
    configs: Sequence[tuple[str, str]],
    milvus_uri: str | None,
) -> list[dict[str, object]]:
    rows = []
    exact: np.ndarray | None = None
    for backend, kind in configs:
        print(f"... {name}: {backend} {kind}", file=sys.stderr, flush=True)
        folder = work / name / f"{backend}-{kind}"
        folder.mkdir(parents=True)
        with Deployment(backend, folder, milvus_uri) as deployment:
            assert deployment.store is not None
            figures, top10 = run_config(
                backend, kind, corpus, folder, encoder, deployment.store, questions, vectors
            )
            pid = deployment.milvus_pid()
            figures["milvus_rss_mb"] = memory_mb(pid) if pid else None
            figures["milvus_peak_mb"] = memory_mb(pid, "VmHWM") if pid else None
        if exact is None:  # the first configuration is FAISS flat: exact inner product
            exact = top10
        figures["recall10_vs_exact"] = round(recall_at_10(exact, top10), 4)
        figures["corpus"] = name
        rows.append(figures)
        print(json.dumps(figures), file=sys.stderr, flush=True)
    return rows


def seed_inputs(models: Path) -> tuple[CachedEncoder, list[str], np.ndarray]:
    """Embed the bundled page and the gold questions once with the real default model."""
    from retrieval.embed.encoders import load_encoder
    from retrieval.ingest import iter_paragraphs

    model = load_encoder(DEFAULT_MODEL, "sentence-transformers", models, lambda _: None)
    documents, _ = load_documents([BUNDLED_CORPUS])
    texts = [p.index_text for p in iter_paragraphs(documents)]
    gold = BUNDLED_CORPUS / "gold" / "queries.jsonl"
    questions = [json.loads(line)["text"] for line in gold.read_text("utf-8").splitlines()]
    passages = model.encode_passages(texts)
    queries = model.encode_queries(questions)
    known = dict(zip(texts, passages, strict=True)) | dict(zip(questions, queries, strict=True))
    return CachedEncoder(model.model, model.dim, known), questions, np.asarray(queries)


def synthetic_inputs(
    n: int, queries: int, folder: Path
) -> tuple[SyntheticEncoder, list[str], np.ndarray]:
    """Write a synthetic corpus of n paragraphs; return its encoder and questions near it."""
    write_corpus(folder, n, vocabulary())
    encoder = SyntheticEncoder(max(16, n // 200))
    documents, _ = load_documents([folder])
    paragraphs = [p for d in documents for p in d.paragraphs]
    rng = np.random.default_rng(1)
    rows = rng.choice(len(paragraphs), size=min(queries, len(paragraphs)), replace=False)
    questions = [paragraphs[int(r)].text[4:30] for r in rows]
    base = np.vstack([encoder._vector(paragraphs[int(r)].index_text) for r in rows])
    noisy = base + QUERY_NOISE * rng.standard_normal(base.shape).astype(np.float32) / np.sqrt(
        base.shape[1]
    )
    vectors = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
    return encoder, questions, vectors


def installed(name: str) -> str | None:
    """Return the installed version of a distribution, or None."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def server_available(uri: str | None) -> str | None:
    """Return why the server rows cannot be measured, or None when they can."""
    if uri:
        return None
    from tests.support.milvus_server import unavailable

    return unavailable()


def print_table(rows: list[dict[str, object]]) -> None:
    print(
        f"{'corpus':>16} {'backend':>13} {'index':>5} {'build s':>8} {'store s':>8} "
        f"{'load s':>7} {'dense p50/p95 ms':>17} {'hybrid p50/p95 ms':>18} {'R@10':>6} "
        f"{'client MB':>9} {'milvus MB (peak)':>16}"
    )
    for r in rows:
        milvus = f"{r['milvus_rss_mb']} ({r['milvus_peak_mb']})" if r["milvus_rss_mb"] else "-"
        print(
            f"{r['corpus']:>16} {NAMES[str(r['backend'])]:>13} {r['index']:>5} "
            f"{r['build_s']:>8} {r['store_build_s']:>8} {r['load_s']:>7} "
            f"{r['dense_p50_ms']:>8.2f}/{r['dense_p95_ms']:<8.2f}"
            f"{r['hybrid_p50_ms']:>9.2f}/{r['hybrid_p95_ms']:<8.2f}"
            f"{r['recall10_vs_exact']:>6.3f} {r['client_rss_mb']:>9} {milvus:>16}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000", help="synthetic corpus sizes, comma-separated")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--milvus-uri", help="a Milvus server to measure instead of starting one")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks/results/backends.json")
    args = parser.parse_args()
    missing = server_available(args.milvus_uri)
    if missing:
        print(f"no Milvus server rows: {missing}", file=sys.stderr)
    configs = [c for c in CONFIGS if not (missing and c[0] == "server")]
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="qabot-backends-") as tmp:
        work = Path(tmp)
        encoder, questions, vectors = seed_inputs(load_settings().models_dir)
        flat = [c for c in configs if c[1] == "flat"]
        rows += compare(
            "seed", BUNDLED_CORPUS, work, encoder, questions, vectors, flat, args.milvus_uri
        )
        for n in (int(s) for s in args.sizes.split(",")):
            corpus = work / f"corpus-{n}"
            synthetic, questions, vectors = synthetic_inputs(n, args.queries, corpus)
            rows += compare(
                f"synthetic-{n}",
                corpus,
                work,
                synthetic,
                questions,
                vectors,
                configs,
                args.milvus_uri,
            )
    server = args.milvus_uri or "milvus 2.3.5 standalone (PyPI), started here"
    print(
        f"pymilvus {version('pymilvus')}, milvus-lite {version('milvus-lite')}, server: "
        f"{server}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}; question encoding "
        f"excluded; dense = top-{DEPTH} of one question"
    )
    print_table(rows)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "server": server,
        "versions": {
            name: installed(name) for name in ("pymilvus", "milvus-lite", "faiss-cpu", "milvus")
        },
        # FAISS answers one question on all OpenMP threads; on a busy machine that is slower.
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "depth": DEPTH,
        "queries": args.queries,
        "command": "python benchmarks/backends.py " + " ".join(sys.argv[1:]),
    }
    args.json.write_text(json.dumps({**meta, "rows": rows}, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
