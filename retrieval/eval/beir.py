"""Read and write question sets in BEIR layout: corpus.jsonl, queries.jsonl, qrels/test.tsv."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.errors import QabotError
from retrieval.ingest import Document, Paragraph

CORPUS = "corpus.jsonl"
QUERIES = "queries.jsonl"
QRELS = Path("qrels") / "test.tsv"


class DatasetError(QabotError):
    """A question set is missing a file or has a malformed line."""


@dataclass(frozen=True)
class Query:
    """One question of a set, with its metadata (lang, kind, split, ...) when the set has it."""

    id: str
    text: str
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Dataset:
    """A BEIR question set: paragraphs (may be empty), questions, and their gold paragraphs.

    Questions without a qrels row are unanswerable: the corpus holds no answer to them.
    """

    name: str
    path: Path
    corpus: dict[str, tuple[str, str]]  # id -> (title, text)
    queries: list[Query]
    qrels: dict[str, dict[str, int]]  # query id -> {paragraph id: relevance}

    @property
    def answerable(self) -> list[Query]:
        return [q for q in self.queries if self.qrels.get(q.id)]

    @property
    def unanswerable(self) -> list[Query]:
        return [q for q in self.queries if not self.qrels.get(q.id)]

    def limited(self, n: int | None) -> Dataset:
        """Return the set cut to its first n questions (all when n is None)."""
        if n is None:
            return self
        keep = self.queries[:n]
        ids = {q.id for q in keep}
        qrels = {q: r for q, r in self.qrels.items() if q in ids}
        return Dataset(self.name, self.path, self.corpus, keep, qrels)


def _json_lines(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    try:
        fh = path.open(encoding="utf-8-sig")
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise DatasetError(f"{path}:{number}: not a JSON line ({exc})") from exc
            if not isinstance(record, dict) or not str(record.get("_id", "")).strip():
                raise DatasetError(f'{path}:{number}: a record needs an "_id"')
            yield number, record


def read_corpus(path: Path) -> dict[str, tuple[str, str]]:
    """Read corpus.jsonl: {"_id", "title", "text"} per line -> {id: (title, text)}."""
    corpus: dict[str, tuple[str, str]] = {}
    for number, record in _json_lines(path):
        pid = str(record["_id"])
        if pid in corpus:
            raise DatasetError(f"{path}:{number}: paragraph id {pid!r} appears twice")
        corpus[pid] = (str(record.get("title") or ""), str(record.get("text") or ""))
    return corpus


def read_queries(path: Path) -> list[Query]:
    """Read queries.jsonl: {"_id", "text", ...metadata} per line."""
    queries: list[Query] = []
    seen: set[str] = set()
    for number, record in _json_lines(path):
        qid = str(record["_id"])
        text = str(record.get("text") or "").strip()
        if not text:
            raise DatasetError(f'{path}:{number}: question {qid!r} has no "text"')
        if qid in seen:
            raise DatasetError(f"{path}:{number}: question id {qid!r} appears twice")
        seen.add(qid)
        meta = {k: str(v) for k, v in record.items() if k not in ("_id", "text")}
        queries.append(Query(qid, text, meta))
    return queries


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Read a qrels TSV (header line, then query-id, corpus-id, score)."""
    qrels: dict[str, dict[str, int]] = {}
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        cells = line.rstrip("\n").split("\t")
        if number == 1 and cells[0].strip().lower() in ("query-id", "query_id", "qid"):
            continue
        if len(cells) != 3:
            raise DatasetError(
                f"{path}:{number}: expected 3 tab-separated columns "
                f"(query-id, corpus-id, score), found {len(cells)}"
            )
        qid, pid, raw = (c.strip() for c in cells)
        try:
            score = int(raw)
        except ValueError:
            raise DatasetError(
                f"{path}:{number}: the score {raw!r} is not a whole number"
            ) from None
        if score > 0:
            qrels.setdefault(qid, {})[pid] = score
    return qrels


def load_dataset(directory: Path, need_corpus: bool = True) -> Dataset:
    """Load a BEIR folder, checking that every qrels row names a known question and paragraph.

    Raises:
        DatasetError: a file is missing or malformed, or qrels name unknown ids.
    """
    if not directory.is_dir():
        raise DatasetError(
            f"no question set at {directory} (give a folder with {CORPUS}, {QUERIES}, {QRELS})"
        )
    # The questions first: a set without corpus.jsonl is valid (asked of the bot's own index).
    for name in [QUERIES, str(QRELS)] + ([CORPUS] if need_corpus else []):
        if not (directory / name).is_file():
            raise DatasetError(
                f"{directory} has no {name} (a question set has {QUERIES} and {QRELS}, and "
                f"{CORPUS} unless its qrels name the bot's own paragraphs, DOC#N)"
            )
    corpus = read_corpus(directory / CORPUS) if need_corpus else {}
    queries = read_queries(directory / QUERIES)
    qrels = read_qrels(directory / QRELS)
    known = {q.id for q in queries}
    for qid, rels in qrels.items():
        if qid not in known:
            raise DatasetError(f"{directory / QRELS} names question {qid!r}, not in {QUERIES}")
        if need_corpus:
            for pid in rels:
                if pid not in corpus:
                    raise DatasetError(
                        f"{directory / QRELS} names paragraph {pid!r} (for {qid}), not in {CORPUS}"
                    )
    if not queries:
        raise DatasetError(f"{directory / QUERIES} has no questions")
    return Dataset(directory.name, directory, corpus, queries, qrels)


def corpus_documents(dataset: Dataset) -> tuple[list[Document], list[str]]:
    """Turn a BEIR corpus into one document whose paragraphs index title + text.

    Returns:
        The document list, and the BEIR id of each paragraph row, in order.
    """
    ids = list(dataset.corpus)
    paragraphs = tuple(
        Paragraph(dataset.name, number, title, text)
        for number, (title, text) in enumerate(dataset.corpus.values(), start=1)
    )
    digest = hashlib.sha256((dataset.path / CORPUS).read_bytes()).hexdigest()
    document = Document(dataset.name, dataset.path / CORPUS, dataset.name, paragraphs, digest)
    return [document], ids


def corpus_records(documents: Iterable[Document]) -> Iterator[dict[str, str]]:
    """Return the BEIR corpus records of parsed documents, ids as the engine uses them."""
    for document in documents:
        for p in document.paragraphs:
            yield {"_id": p.id, "title": p.section, "text": p.text}


def main() -> None:
    """Print corpus.jsonl for a corpus folder: python -m retrieval.eval.beir corpus/ > FILE."""
    import sys

    from retrieval.ingest import load_documents

    documents, _ = load_documents([Path(p) for p in sys.argv[1:]] or [Path("corpus")])
    for record in corpus_records(documents):
        print(json.dumps(record, ensure_ascii=False))


if __name__ == "__main__":
    main()
