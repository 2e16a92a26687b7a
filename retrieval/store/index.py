"""Build, save, check and load the index directory: vectors + paragraphs + BM25 + manifest."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from retrieval import __version__
from retrieval.embed.encoders import Encoder, LazyEncoder
from retrieval.errors import IndexStateError, UsageError
from retrieval.ingest import Document, Paragraph, corpus_hash, iter_paragraphs
from retrieval.search.lexical import LexicalIndex
from retrieval.store.faiss_store import FaissStore, VectorStore, choose_index_type
from retrieval.store.paragraphs import ParagraphStore, Rows, StoredRows, write_paragraphs

if TYPE_CHECKING:  # pymilvus is optional: retrieval.store.milvus is imported only when it is used
    from retrieval.store.milvus import MilvusBackend, MilvusStore

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
EMBEDDINGS = "embeddings.npy"
HASHES = "hashes.json"
BM25_DIR = "bm25"
FULL_HASH_BYTES = 64 * 1024 * 1024
SAMPLES = 256
SAMPLE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Manifest:
    """What built an index, checked on load so a stale index is never used silently."""

    format_version: int
    model: str
    dim: int
    count: int
    corpus_hash: str
    qabot_version: str
    created: str
    index_type: str
    documents: list[dict[str, object]] = field(default_factory=list)
    files: dict[str, dict[str, object]] = field(default_factory=dict)

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        """Read the manifest of an index directory.

        Raises:
            IndexStateError: it is missing or not a manifest of this program.
        """
        path = directory / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except FileNotFoundError as exc:
            raise IndexStateError(f"no index at {directory} (run: qabot index)") from exc
        except (OSError, ValueError, TypeError) as exc:
            raise IndexStateError(
                f"the index manifest {path} is unreadable or damaged (run: qabot index --rebuild)"
            ) from exc


@dataclass
class LoadedIndex:
    """An index in memory: the vectors, the paragraphs (row i = paragraph i), BM25."""

    directory: Path
    manifest: Manifest
    paragraphs: Sequence[Paragraph]
    vectors: VectorStore
    lexical: LexicalIndex
    _starts: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)
    _embeddings: Rows | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # Documents are stored contiguously in corpus order, numbered 1..count.
        row = 0
        for entry in self.manifest.documents:
            count = int(entry["paragraphs"])  # type: ignore[call-overload]
            self._starts[str(entry["doc"])] = (row, count)
            row += count

    def embeddings(self) -> Rows:
        """Return the stored paragraph vectors, opened once (see store.StoredRows).

        Raises:
            OSError, ValueError: the file cannot be read.
        """
        if self._embeddings is None:
            self._embeddings = StoredRows(self.directory / EMBEDDINGS)
        return self._embeddings

    def doc_range(self, doc: str) -> tuple[int, int] | None:
        """Return (first row, paragraph count) of a document, or None if there is no such doc."""
        return self._starts.get(doc)

    def row_of(self, doc: str, number: int) -> int | None:
        found = self._starts.get(doc)
        if found is None or not 1 <= number <= found[1]:
            return None
        return found[0] + number - 1

    @property
    def documents(self) -> list[str]:
        """Return the document ids in corpus order."""
        return list(self._starts)


def file_digest(path: Path) -> dict[str, object]:
    """Return the size and checksum of a file: all of it when small, evenly spaced samples else.

    Hashing a multi-GB index on every start would cost seconds; the size catches truncation,
    and 256 samples of 64 KiB catch garbage written over any sizeable part of the file.
    """
    size = path.stat().st_size
    h = hashlib.sha256()
    with path.open("rb") as fh:
        if size <= FULL_HASH_BYTES:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
            return {"size": size, "sha256": h.hexdigest()}
        for i in range(SAMPLES):
            fh.seek((size - SAMPLE_BYTES) * i // (SAMPLES - 1))
            h.update(fh.read(SAMPLE_BYTES))
    return {"size": size, "sampled_sha256": h.hexdigest()}


def verify_files(
    directory: Path, expected: dict[str, dict[str, object]], names: Iterable[str]
) -> None:
    """Check files of an index directory against the manifest.

    Raises:
        IndexStateError: a file is missing, truncated or damaged.
    """
    for name in names:
        path = directory / name
        if name not in expected or not path.is_file() or file_digest(path) != expected[name]:
            raise IndexStateError(
                f"index file {path} is missing or damaged (run: qabot index --rebuild)"
            )


def _fsync_tree(directory: Path) -> None:
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see the old or the new content, never a mix."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@contextlib.contextmanager
def build_lock(directory: Path, say: Callable[[str], None]) -> Iterator[None]:
    """Hold an exclusive lock on an index directory; a second builder waits for the first."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    lock_path = directory.with_name(directory.name + ".lock")
    with lock_path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("Another qabot is building this index; waiting for it to finish...")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _text_hash(paragraph: Paragraph) -> str:
    return hashlib.sha256(paragraph.index_text.encode("utf-8")).hexdigest()


def _reusable_vectors(directory: Path, model: str) -> dict[str, np.ndarray]:
    """Return the vectors of an earlier build of the same model, by paragraph text hash."""
    try:
        manifest = Manifest.read(directory)
        if manifest.model != model or manifest.format_version != FORMAT_VERSION:
            return {}
        verify_files(directory, manifest.files, [EMBEDDINGS, HASHES])
        hashes = json.loads((directory / HASHES).read_text(encoding="utf-8"))
        vectors = np.load(directory / EMBEDDINGS, mmap_mode="r", allow_pickle=False)
    except (IndexStateError, OSError, ValueError):
        return {}
    if len(hashes) != len(vectors):
        return {}
    return dict(zip(hashes, vectors, strict=True))


def build_index(
    directory: Path,
    documents: Sequence[Document],
    encoder: Encoder,
    say: Callable[[str], None],
    progress: bool = True,
    index_type: str = "auto",
    fingerprint: str | None = None,
    reuse: bool = True,
    milvus: MilvusBackend | None = None,
) -> LoadedIndex:
    """Embed the corpus and write a complete index directory, replacing any earlier one.

    Paragraphs whose text has not changed since the last build reuse their vectors. The
    manifest records `fingerprint` (see documents.corpus_fingerprint) as the corpus hash when
    given, else a hash of the parsed documents. The new
    index is written beside the old one and renamed into place, so an interrupted build leaves
    the earlier index as it was. With `milvus`, the vectors and paragraphs go into a new
    collection there; the directory keeps BM25, the manifest and the vectors for reuse.
    """
    with build_lock(directory, say):
        paragraphs = list(iter_paragraphs(documents))
        hashes = [_text_hash(p) for p in paragraphs]
        known = _reusable_vectors(directory, encoder.model) if reuse else {}
        todo = [i for i, h in enumerate(hashes) if h not in known]
        started = time.perf_counter()
        # With nothing to embed the model is not needed: a lazy encoder is never loaded.
        if todo:
            if isinstance(encoder, LazyEncoder):  # a model that cannot load fails before this
                encoder = encoder.for_batch(len(todo))
            say(f"Embedding {len(todo)} of {len(paragraphs)} paragraphs with {encoder.model}...")
            fresh = encoder.encode_passages([paragraphs[i].index_text for i in todo], progress)
            dim = fresh.shape[1]
        else:
            fresh = np.zeros((0, 0), dtype=np.float32)
            dim = len(next(iter(known.values()))) if known else encoder.dim
        vectors = np.zeros((len(paragraphs), dim), dtype=np.float32)
        for row, i in enumerate(todo):
            vectors[i] = fresh[row]
        for i, h in enumerate(hashes):
            if h in known:
                vectors[i] = known[h]
        store: FaissStore | MilvusStore
        in_milvus: MilvusStore | None = None
        if milvus is None:
            store = FaissStore.build(vectors, choose_index_type(len(paragraphs), index_type))
        else:
            record_hash = fingerprint or corpus_hash(documents)
            store = in_milvus = milvus.build(
                directory, vectors, paragraphs, encoder.model, record_hash, index_type
            )
        kind = store.kind
        lexical = LexicalIndex.build([p.index_text for p in paragraphs])

        # Under the lock, any leftover temporary folder is from a build that died: remove it.
        for leftover in directory.parent.glob(f".{directory.name}.*-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        tmp = directory.with_name(f".{directory.name}.tmp-{os.getpid()}")
        tmp.mkdir(parents=True)
        store.save(tmp)
        np.save(tmp / EMBEDDINGS, vectors, allow_pickle=False)
        (tmp / HASHES).write_text(json.dumps(hashes), encoding="utf-8")
        write_paragraphs(tmp, paragraphs)
        lexical.save(tmp / BM25_DIR)
        files = {
            str(path.relative_to(tmp)): file_digest(path)
            for path in sorted(tmp.rglob("*"))
            if path.is_file()
        }
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            model=encoder.model,
            dim=dim,
            count=len(paragraphs),
            corpus_hash=fingerprint or corpus_hash(documents),
            qabot_version=__version__,
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            index_type=kind,
            documents=[
                {"doc": d.doc, "path": str(d.path), "paragraphs": len(d.paragraphs)}
                for d in documents
            ],
            files=files,
        )
        (tmp / MANIFEST).write_text(
            json.dumps(asdict(manifest), ensure_ascii=False, indent=2), encoding="utf-8"
        )
        try:
            _fsync_tree(tmp)
            _swap_into_place(tmp, directory)
        except BaseException:
            if milvus is not None and in_milvus is not None:
                # No manifest names the new collection: it would stay on the server unused.
                milvus.drop(in_milvus.collection)
            raise
        say(
            f"Indexed {len(paragraphs)} paragraphs from {len(documents)} document(s) "
            f"in {time.perf_counter() - started:.1f} s ({len(todo)} embedded, "
            f"{len(paragraphs) - len(todo)} reused)."
        )
    shown = ParagraphStore(directory) if in_milvus is None else in_milvus.paragraphs
    return LoadedIndex(directory, manifest, shown, store, lexical)


def _swap_into_place(tmp: Path, directory: Path) -> None:
    old = directory.with_name(f".{directory.name}.old-{os.getpid()}")
    if directory.exists():
        os.replace(directory, old)
    os.replace(tmp, directory)
    shutil.rmtree(old, ignore_errors=True)


def staleness(manifest: Manifest, model: str, current_corpus_hash: str) -> str | None:
    """Say why an index cannot serve this corpus and model, or None when it can."""
    if manifest.format_version != FORMAT_VERSION:
        return (
            f"the index is in format {manifest.format_version}, this qabot reads "
            f"format {FORMAT_VERSION}"
        )
    if manifest.model != model:
        return f"the index was built with model {manifest.model}, not {model}"
    if manifest.corpus_hash != current_corpus_hash:
        return "the corpus has changed since the index was built"
    return None


def load_index(directory: Path, milvus: MilvusBackend | None = None) -> LoadedIndex:
    """Load an index directory, checking every file against the manifest's checksums.

    With `milvus`, the vectors and paragraphs are those of the collection the directory
    names, once the collection's own record matches the manifest.

    Raises:
        IndexStateError: a file is missing, truncated or damaged.
    """
    manifest = Manifest.read(directory)
    verify_files(directory, manifest.files, list(manifest.files))
    vectors: VectorStore
    paragraphs: Sequence[Paragraph]
    if milvus is not None:
        store = milvus.open(directory, manifest)
        vectors, paragraphs = store, store.paragraphs
    exact: Rows | None = None
    try:
        if milvus is None:
            exact = StoredRows(directory / EMBEDDINGS)
            vectors = FaissStore.load(directory, manifest.index_type, exact)
            paragraphs = ParagraphStore(directory)
        lexical = LexicalIndex.load(directory / BM25_DIR)
    except (OSError, RuntimeError, ValueError, KeyError, UsageError) as exc:
        raise IndexStateError(
            f"the index at {directory} cannot be read ({exc}); run: qabot index --rebuild"
        ) from exc
    if vectors.ntotal != len(paragraphs) or len(paragraphs) != manifest.count:
        raise IndexStateError(
            f"the index at {directory} is inconsistent ({vectors.ntotal} vectors, "
            f"{len(paragraphs)} paragraphs); run: qabot index --rebuild"
        )
    return LoadedIndex(directory, manifest, paragraphs, vectors, lexical, _embeddings=exact)
