"""Score rankings on a question set: each method side by side, with ir-measures."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retrieval.embed.encoders import Encoder
from retrieval.errors import QabotError, Remedy
from retrieval.eval.beir import Dataset, Query
from retrieval.eval.targets import Target
from retrieval.search import (
    CANDIDATES,
    DEFAULT_METHOD,
    METHODS,
    Searcher,
    check_method,
    check_question,
)
from retrieval.search.rerank import RERANKERS
from retrieval.search.searcher import dense_text

# Names as ir-measures spells them; RR@10 is cut at 10 (pytrec_eval's recip_rank is not).
MEASURES = ("R@1", "R@3", "R@5", "R@10", "RR@10", "nDCG@10")
CURVE_DEPTHS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20)
# A question a method returns nothing for still counts, as a miss.
NOTHING = "__nothing__"


@dataclass
class MethodResult:
    """One method's ranking of every question, its metrics and its speed."""

    method: str
    rankings: dict[str, list[tuple[str, float]]]  # question id -> [(paragraph id, score)]
    seconds: float
    # Question id -> probability that the corpus answers it, for the methods that judge it
    # (the hybrid, for the first stage; each re-ranker for itself), and the line they draw.
    confidence: dict[str, float] = field(default_factory=dict)
    threshold: float | None = None
    # Question ids the served path refuses before the index (no words, small talk, a lone §N).
    refused: list[str] = field(default_factory=list)
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

    @property
    def dataset(self) -> Dataset:
        return self.target.dataset

    @property
    def judges(self) -> list[MethodResult]:
        """Return the methods that judged whether the corpus answers, served method first."""
        judged = [r for r in self.methods.values() if r.threshold is not None]
        return sorted(judged, key=lambda r: r.method != DEFAULT_METHOD)


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


def _encode_questions(
    searcher: Searcher, queries: Sequence[Query], progress: bool
) -> tuple[dict[str, np.ndarray], float]:
    """Encode every question once, one at a time as the bot does, and time it."""
    from tqdm import tqdm

    encoder = searcher.encoder
    vectors: dict[str, np.ndarray] = {}
    started = time.perf_counter()
    for q in tqdm(queries, desc="embedding questions", disable=not progress, file=sys.stderr):
        text = dense_text(q.text)  # what Searcher.query_vector asks the encoder for
        if text not in vectors:
            vectors[text] = encoder.encode_queries([text])[0]
    return vectors, time.perf_counter() - started


class _Memo:
    """An encoder that answers from vectors computed beforehand (so each method reuses them)."""

    def __init__(self, inner: Encoder, vectors: dict[str, np.ndarray]) -> None:
        self._inner = inner
        self._vectors = vectors
        self.model = inner.model
        self.dim = inner.dim

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:  # e.g. the translation of an English question (Searcher.query_vector)
            self._vectors.update(zip(missing, self._inner.encode_queries(missing), strict=True))
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

    for method in methods:
        check_method(method)  # an unknown name fails here, before any work
    searcher = target.searcher
    queries = target.dataset.queries
    needs_dense = any(m != "bm25" for m in methods)
    encode_seconds = 0.0
    if needs_dense:
        vectors, encode_seconds = _encode_questions(searcher, queries, progress)
        memo = _Memo(searcher.encoder, vectors)
        searcher = Searcher(searcher.index, lambda: memo)
    results: dict[str, MethodResult] = {}
    for method in methods:
        results[method] = _run_method(target, searcher, method, depth, progress)
        if method != "bm25":
            results[method].seconds += encode_seconds
    score(target.dataset, results.values())
    return Evaluation(target, results)


def _run_method(
    target: Target, searcher: Searcher, method: str, depth: int, progress: bool
) -> MethodResult:
    """Rank every question by one method (with its judgement, where it makes one)."""
    from tqdm import tqdm

    judges = method == "hybrid" or method in RERANKERS.names
    result = MethodResult(method, {}, 0.0)
    started = time.perf_counter()
    for q in tqdm(target.dataset.queries, desc=method, disable=not progress, file=sys.stderr):
        try:
            check_question(q.text)
        except QabotError:
            # Served, it never reaches the index (no words, small talk, a lone §N): nothing
            # is shown, so it ranks nothing and, where the method judges, counts as flagged.
            result.rankings[q.id] = []
            result.refused.append(q.id)
            if judges:
                result.confidence[q.id] = 0.0
            continue
        if judges:
            ranked = searcher.rank_with_confidence(q.text, method, depth)
            rows = ranked.ranking
            result.confidence[q.id], result.threshold = ranked.confidence, ranked.threshold
        else:
            rows = searcher.rank(q.text, method, depth)
        result.rankings[q.id] = [(target.row_id(r), s) for r, s in rows[:depth]]
    result.seconds = time.perf_counter() - started
    return result


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


def flag_rates(evaluation: Evaluation, result: MethodResult) -> dict[str, float | int]:
    """Return how often a method marked its answer not confident, by kind of question."""
    ds = evaluation.dataset
    conf = result.confidence
    if not conf or result.threshold is None:
        return {}
    threshold = result.threshold
    answerable = [q.id for q in ds.answerable if q.id in conf]
    unanswerable = [q.id for q in ds.unanswerable if q.id in conf]

    def share(ids: list[str]) -> float:
        return sum(conf[i] < threshold for i in ids) / len(ids) if ids else 0.0

    rates: dict[str, float | int] = {
        "answerable": len(answerable),
        "answerable_flagged": share(answerable),
    }
    if unanswerable:
        rates["unanswerable"] = len(unanswerable)
        rates["unanswerable_flagged"] = share(unanswerable)
    rates["refused"] = len(result.refused)
    return rates


# Kinds of unanswerable questions a set may mark in its metadata (corpus/gold does).
UNANSWERABLE_KINDS = (("near_topic", "near-topic"), ("no_cjk", "no Chinese"))


def flagged_by_kind(evaluation: Evaluation, result: MethodResult) -> dict[str, tuple[int, int]]:
    """Return {kind: (flagged, questions)} over the unanswerable questions, by the kinds their
    metadata marks (near-topic, no Chinese; the rest "off-topic"); {} if none is marked."""
    conf, threshold = result.confidence, result.threshold
    questions = [q for q in evaluation.dataset.unanswerable if q.id in conf]
    if threshold is None or not any(
        q.meta.get(k) == "True" for q in questions for k, _ in UNANSWERABLE_KINDS
    ):
        return {}
    out: dict[str, tuple[int, int]] = {}
    for q in questions:
        kind = next(
            (name for key, name in UNANSWERABLE_KINDS if q.meta.get(key) == "True"), "off-topic"
        )
        flagged, total = out.get(kind, (0, 0))
        out[kind] = (flagged + (conf[q.id] < threshold), total + 1)
    return out


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
