"""Build and load an index directory: vectors (in a store) + paragraphs + BM25 + manifest."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from retrieval import __version__
from retrieval.config import ENV_HOME
from retrieval.embed.encoders import Encoder, LazyEncoder
from retrieval.errors import IndexStateError, Remedy, UsageError
from retrieval.fileio import fsync_tree, replace_dir
from retrieval.ingest import Document, Paragraph, corpus_hash, iter_paragraphs
from retrieval.ingest.files import escape_bytes
from retrieval.progress import Say, progress_bar
from retrieval.store.base import BuildSpec, StoreBackend, VectorStore
from retrieval.store.lexical import LexicalIndex
from retrieval.store.manifest import (
    BM25_DIR,
    EMBEDDINGS,
    FORMAT_VERSION,
    HASHES,
    MANIFEST,
    Manifest,
    digest_files,
    staleness,
    verify_files,
)
from retrieval.store.paragraphs import Rows, StoredRows, write_paragraphs
from retrieval.store.registry import open_backend

# Names the rest of the engine reads from here: the manifest's and the directory's layout.
__all__ = [
    "BM25_DIR",
    "EMBEDDINGS",
    "FORMAT_VERSION",
    "HASHES",
    "MANIFEST",
    "LoadedIndex",
    "Manifest",
    "build_index",
    "load_index",
    "staleness",
]


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
        """Return the row of paragraph `number` of a document, or None if there is none."""
        found = self._starts.get(doc)
        if found is None or not 1 <= number <= found[1]:
            return None
        return found[0] + number - 1

    @property
    def documents(self) -> list[str]:
        """Return the document ids in corpus order."""
        return list(self._starts)


@contextlib.contextmanager
def build_lock(directory: Path, say: Say) -> Iterator[None]:
    """Hold an exclusive lock on an index directory; a second builder waits for the first.

    Only a build takes it: loading a built index needs no lock and no write access, so a
    read-only home keeps answering.

    Raises:
        IndexStateError: the folder of the index cannot be made or written.
    """
    lock_path = directory.with_name(directory.name + ".lock")
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        fh = lock_path.open("a")
    except OSError as exc:
        raise IndexStateError(
            f"cannot build the index in {directory.parent}: "
            f"{exc.strerror or exc} ({exc.filename or directory.parent}); "
            f"{ENV_HOME} must name a folder qabot can write",
            data={"path": str(directory.parent)},
        ) from exc
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("Another qabot is building this index; waiting for it to finish...")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Embedded:
    """The vectors of a build's paragraphs (row i = paragraph i), and how many were new."""

    vectors: np.ndarray
    hashes: list[str]
    fresh: int


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


def embed_paragraphs(
    paragraphs: Sequence[Paragraph],
    encoder: Encoder,
    known: dict[str, np.ndarray],
    say: Say,
    progress: bool,
) -> Embedded:
    """Return the paragraphs' vectors: `known` ones by text hash, the others encoded now."""
    hashes = [_text_hash(p) for p in paragraphs]
    todo = [i for i, h in enumerate(hashes) if h not in known]
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
    return Embedded(vectors, hashes, len(todo))


@dataclass(frozen=True)
class Build:
    """What a build writes: the paragraphs, their vectors, the store over them, BM25."""

    paragraphs: list[Paragraph]
    embedded: Embedded
    store: VectorStore
    lexical: LexicalIndex


def _new_manifest(documents: Sequence[Document], spec: BuildSpec, build: Build) -> Manifest:
    """Return the manifest of a build, without its files' checksums yet."""
    return Manifest(
        format_version=FORMAT_VERSION,
        model=spec.model,
        dim=build.embedded.vectors.shape[1],
        count=len(build.paragraphs),
        corpus_hash=spec.corpus_hash,
        qabot_version=__version__,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        index_type=build.store.kind,
        documents=[
            {"doc": d.doc, "path": escape_bytes(str(d.path)), "paragraphs": len(d.paragraphs)}
            for d in documents
        ],
    )


def _temporary_dir(directory: Path) -> Path:
    """Make an empty folder beside the index directory to write a build into."""
    # Under the build lock, any leftover temporary folder is from a build that died.
    for leftover in directory.parent.glob(f".{directory.name}.*-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    tmp = directory.with_name(f".{directory.name}.tmp-{os.getpid()}")
    tmp.mkdir(parents=True)
    return tmp


def _write_files(tmp: Path, build: Build) -> None:
    """Write every file of an index directory but the manifest into `tmp`."""
    build.store.save(tmp)
    np.save(tmp / EMBEDDINGS, build.embedded.vectors, allow_pickle=False)
    (tmp / HASHES).write_text(json.dumps(build.embedded.hashes), encoding="utf-8")
    write_paragraphs(tmp, build.paragraphs)
    build.lexical.save(tmp / BM25_DIR)


def _publish(directory: Path, build: Build, manifest: Manifest) -> Manifest:
    """Write the index beside `directory` and rename it into place; return its manifest.

    An interrupted build leaves the earlier index as it was.
    """
    tmp = _temporary_dir(directory)
    _write_files(tmp, build)
    manifest = dataclasses.replace(manifest, files=digest_files(tmp))
    manifest.write(tmp)
    fsync_tree(tmp)
    replace_dir(tmp, directory)
    return manifest


# From this many paragraphs, splitting them into words takes long enough to be shown (about
# 2 s per 10,000 on this project's machines; 1M paragraphs take minutes).
LEXICAL_PROGRESS_FROM = 10_000


def build_lexical(paragraphs: Sequence[Paragraph], say: Say, progress: bool) -> LexicalIndex:
    """Build the BM25 index of the paragraphs, saying so (and drawing a bar) for big corpora."""
    shown = len(paragraphs) >= LEXICAL_PROGRESS_FROM
    if shown:
        say(f"Indexing the words of {len(paragraphs)} paragraphs (BM25)...")
    with progress_bar(len(paragraphs), "Words", progress and shown) as advance:
        return LexicalIndex.build([p.index_text for p in paragraphs], advance)


def build_index(
    directory: Path,
    documents: Sequence[Document],
    encoder: Encoder,
    say: Say,
    progress: bool = True,
    index_type: str = "auto",
    fingerprint: str | None = None,
    reuse: bool = True,
    backend: StoreBackend | None = None,
) -> LoadedIndex:
    """Embed the corpus and write a complete index directory, replacing any earlier one.

    Paragraphs whose text has not changed since the last build reuse their vectors. The
    manifest records `fingerprint` (see ingest.corpus_fingerprint) as the corpus hash when
    given, else a hash of the parsed documents. The vectors go into a new store of `backend`
    (FAISS by default); the directory keeps BM25, the manifest and the vectors for reuse.
    """
    backend = backend or open_backend()
    with build_lock(directory, say):
        started = time.perf_counter()
        paragraphs = list(iter_paragraphs(documents))
        known = _reusable_vectors(directory, encoder.model) if reuse else {}
        embedded = embed_paragraphs(paragraphs, encoder, known, say, progress)
        spec = BuildSpec(encoder.model, fingerprint or corpus_hash(documents), index_type)
        store = backend.build(directory, embedded.vectors, paragraphs, spec)
        try:
            lexical = build_lexical(paragraphs, say, progress)
            build = Build(paragraphs, embedded, store, lexical)
            manifest = _publish(directory, build, _new_manifest(documents, spec, build))
        except BaseException:
            # No manifest names this store: what it made elsewhere (a Milvus collection)
            # would stay there unused.
            store.discard()
            raise
        say(
            f"Indexed {len(paragraphs)} paragraphs from {len(documents)} document(s) "
            f"in {time.perf_counter() - started:.1f} s ({embedded.fresh} embedded, "
            f"{len(paragraphs) - embedded.fresh} reused)."
        )
    return LoadedIndex(directory, manifest, store.paragraphs(directory), store, lexical)


def load_index(directory: Path, backend: StoreBackend | None = None) -> LoadedIndex:
    """Load an index directory, checking every file against the manifest's checksums.

    The vectors and paragraphs are those of the store of `backend` (FAISS by default) the
    directory was built with, once the store is found to match the manifest.

    Raises:
        IndexStateError: a file is missing, truncated or damaged, or the store is gone.
    """
    backend = backend or open_backend()
    manifest = Manifest.read(directory)
    verify_files(directory, manifest.files, list(manifest.files))
    try:
        exact = StoredRows(directory / EMBEDDINGS)
        vectors = backend.load(directory, manifest, exact)
        paragraphs = vectors.paragraphs(directory)
        lexical = LexicalIndex.load(directory / BM25_DIR)
    except (OSError, RuntimeError, ValueError, KeyError, UsageError) as exc:
        raise IndexStateError(
            f"the index at {directory} cannot be read ({exc})", remedy=Remedy.REBUILD_INDEX
        ) from exc
    if vectors.ntotal != len(paragraphs) or len(paragraphs) != manifest.count:
        raise IndexStateError(
            f"the index at {directory} is inconsistent ({vectors.ntotal} vectors, "
            f"{len(paragraphs)} paragraphs, {manifest.count} in its manifest)",
            remedy=Remedy.REBUILD_INDEX,
        )
    return LoadedIndex(directory, manifest, paragraphs, vectors, lexical, _embeddings=exact)
