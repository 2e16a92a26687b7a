"""Run the same corpus and questions through the FAISS and Milvus backends, side by side.

Run: python benchmarks/backends.py [--sizes 20000] [--queries 300] [--milvus-uri URI]

What is measured, for each backend and index type, in one run:
- build s: the whole `build_index` (parse excluded), and within it the vector store alone
  (FAISS index in memory and on disk; Milvus: insert, flush, index, load, count check);
- load s: opening the built index again (Milvus: record, index and load checks);
- dense p50/p99 ms: one question's top-100 from the vector store (what the searcher asks);
- hybrid p50 ms: the full hybrid ranking (dense + BM25 + fusion) for one question;
- R@10: recall of the store's top-10 against exact inner-product search (FAISS flat).
Two corpora: the bundled page with the real default model and the gold questions, and a
synthetic corpus (as in benchmarks/scale.py: Chinese words drawn from the page, clustered unit
vectors, questions near random paragraphs). Question encoding is excluded: it is the same for
both backends. Milvus runs as Milvus Lite in a temporary folder unless --milvus-uri is given;
Milvus Lite builds only FLAT and IVF_FLAT, so HNSW is measured on FAISS alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
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

CONFIGS = (("faiss", "flat"), ("faiss", "hnsw"), ("milvus", "flat"), ("milvus", "ivf"))
DEPTH = 100


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
        "dense_p99_ms": round(percentile(dense, 0.99), 3),
        "hybrid_p50_ms": round(percentile(hybrid, 0.5), 3),
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
    milvus: MilvusBackend,
    configs: Sequence[tuple[str, str]],
) -> list[dict[str, object]]:
    rows = []
    exact: np.ndarray | None = None
    for backend, kind in configs:
        print(f"... {name}: {backend} {kind}", file=sys.stderr, flush=True)
        figures, top10 = run_config(
            backend,
            kind,
            corpus,
            work / name,
            encoder,
            milvus if backend == "milvus" else open_backend(backend),
            questions,
            vectors,
        )
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000", help="synthetic corpus sizes, comma-separated")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--milvus-uri", help="a Milvus server to measure instead of Milvus Lite")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks/results/backends.json")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="qabot-backends-") as tmp:
        work = Path(tmp)
        milvus = MilvusBackend.connect(args.milvus_uri or str(work / "bench.db"))
        deployment = "Milvus Lite" if milvus.is_lite else "Milvus server"
        try:
            encoder, questions, vectors = seed_inputs(load_settings().models_dir)
            configs = [c for c in CONFIGS if c[1] == "flat"]
            rows += compare(
                "seed", BUNDLED_CORPUS, work, encoder, questions, vectors, milvus, configs
            )
            for n in (int(s) for s in args.sizes.split(",")):
                corpus = work / f"corpus-{n}"
                synthetic, questions, vectors = synthetic_inputs(n, args.queries, corpus)
                rows += compare(
                    f"synthetic-{n}", corpus, work, synthetic, questions, vectors, milvus, CONFIGS
                )
        finally:
            milvus.close()
    print(
        f"Milvus: {deployment} (pymilvus {version('pymilvus')}, milvus-lite "
        f"{version('milvus-lite')}); OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}; "
        f"question encoding excluded; dense = top-{DEPTH} of one question"
    )
    header = (
        f"{'corpus':>16} {'backend':>7} {'index':>5} {'build s':>8} {'store s':>8} "
        f"{'load s':>7} {'dense p50/p99 ms':>17} {'hybrid p50 ms':>13} {'R@10 vs exact':>13}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['corpus']:>16} {r['backend']:>7} {r['index']:>5} {r['build_s']:>8} "
            f"{r['store_build_s']:>8} {r['load_s']:>7} "
            f"{r['dense_p50_ms']:>8.2f}/{r['dense_p99_ms']:<8.2f}{r['hybrid_p50_ms']:>13.2f}"
            f"{r['recall10_vs_exact']:>14.4f}"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "milvus": deployment,
        "versions": {name: version(name) for name in ("pymilvus", "milvus-lite", "faiss-cpu")},
        # FAISS answers one question on all OpenMP threads; on a busy machine that is slower.
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "depth": DEPTH,
        "queries": args.queries,
    }
    args.json.write_text(json.dumps({**meta, "rows": rows}, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
