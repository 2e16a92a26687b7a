"""The lexical index: BM25 (bm25s) over the search words of each paragraph, saved with the index."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import IndexStateError
from retrieval.progress import Advance
from retrieval.words import (
    BIGRAM_MARK,
    TOKENIZER_VERSION,
    index_tokens,
    query_terms,
    query_tokens,
)

SETTINGS_FILE = "qabot-lexical.json"
BM25_K1 = 1.5
BM25_B = 0.75


def _bm25s() -> Any:
    """Import bm25s, whose import sets its own logger to DEBUG (a line on every build)."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class LexicalIndex:
    """A BM25 index over paragraph texts, saved beside the vector index."""

    def __init__(self, retriever: object) -> None:
        self._retriever = retriever
        self._vocab: dict[str, int] = retriever.vocab_dict  # type: ignore[attr-defined]
        raw = retriever.scores  # type: ignore[attr-defined]
        self.count = int(raw["num_docs"])
        # Document frequency of every term, for the idf weights of the coverage measure.
        self._df = np.diff(np.asarray(raw["indptr"]))

    @classmethod
    def build(cls, texts: Sequence[str], advance: Advance | None = None) -> LexicalIndex:
        """Index the texts' search words; advance(1) is called as each text is split."""
        bm25s = _bm25s()
        corpus_tokens = []
        for text in texts:
            corpus_tokens.append(index_tokens(text))
            if advance is not None:
                advance(1)
        retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        retriever.index(corpus_tokens, show_progress=False)
        return cls(retriever)

    def save(self, directory: Path) -> None:
        self._retriever.save(str(directory), show_progress=False)  # type: ignore[attr-defined]
        settings = {"tokenizer_version": TOKENIZER_VERSION, "k1": BM25_K1, "b": BM25_B}
        (directory / SETTINGS_FILE).write_text(json.dumps(settings), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """Load a saved BM25 index.

        Raises:
            IndexStateError: it was built by another tokenizer or with other BM25 parameters.
        """
        bm25s = _bm25s()
        try:
            settings = json.loads((directory / SETTINGS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            settings = {}
        wanted = {"tokenizer_version": TOKENIZER_VERSION, "k1": BM25_K1, "b": BM25_B}
        if settings != wanted:
            raise IndexStateError(
                f"the BM25 index at {directory} was built with other word-splitting or "
                "parameters than this qabot uses"
            )
        # Memory-mapped: a question reads the postings of its own terms only.
        return cls(bm25s.BM25.load(str(directory), show_progress=False, mmap=True))

    def scores(self, query: str) -> np.ndarray:
        """Return the BM25 score of every paragraph for the question."""
        tokens = [t for t in query_tokens(query) if t in self._vocab]
        if not tokens:
            return np.zeros(self.count, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)  # type: ignore[attr-defined]

    def best_sense_scores(self, groups: Sequence[tuple[str, ...]]) -> np.ndarray:
        """Return the BM25 score of every paragraph for a translated question, given a group
        of corpus words that may stand for each of its words: a group scores by its best sense
        in the paragraph, so `year` (年度, 岁, 年) counts once, not three times, and a word with
        four senses does not outweigh one with a single exact translation."""
        total = np.zeros(self.count, dtype=np.float32)
        for group in groups:
            if group:
                # A dense array per sense: measured once (2026-12-07, 300k synthetic
                # paragraphs, a ten-word question) 7.5 ms, where merging the senses' postings
                # took 120 ms (common words have long ones) and the words as one query 2.9 ms.
                total += np.max([self.scores(sense) for sense in group], axis=0)
        return total

    def words(self) -> list[str]:
        """Return the words the index knows (character bigrams aside)."""
        return [t for t in self._vocab if not t.startswith(BIGRAM_MARK)]

    def idf(self, term: str) -> float:
        """Return the idf of a term; a term no paragraph has gets the highest possible."""
        row = self._vocab.get(term)
        df = int(self._df[row]) if row is not None and row < len(self._df) else 0
        return math.log(1.0 + (self.count - df + 0.5) / (df + 0.5))

    def known_share(self, query: str) -> float:
        """Return the share of the question's words (stopwords aside) that some paragraph has.

        Near 1 for a question in the corpus's language and vocabulary; 0 for one in another
        script (English over Chinese paragraphs), whose BM25 scores are then noise. Words, not
        bigrams: bigrams across a question word ("路什") are unknown in any corpus.
        """
        words = query_terms(query)
        return sum(w in self._vocab for w in words) / len(words) if words else 0.0

    def coverage(self, query: str, text: str) -> float:
        """Return the idf-weighted share of the question's words and bigrams found in text.

        A question about something the corpus never mentions keeps its rare words unmatched,
        so its best passage covers little of it even when the topic is close.
        """
        wanted = set(query_tokens(query))
        if not wanted:
            return 0.0
        present = set(index_tokens(text))
        weights = {t: self.idf(t) for t in wanted}
        total = sum(weights.values())
        return sum(w for t, w in weights.items() if t in present) / total if total else 0.0
