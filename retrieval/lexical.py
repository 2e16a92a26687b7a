"""The lexical half of search: BM25 (bm25s) over jieba words (rjieba) of normalised text."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rjieba

from retrieval.normalize import normalize

logger = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG at import, which would print on every build.
logging.getLogger("bm25s").setLevel(logging.WARNING)

BM25_K1 = 1.5
BM25_B = 0.75
# Function words and punctuation carry no evidence of which paragraph answers a question.
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 有 也 都 就 而 对 为 把 被 从 到 向 以 等 中 上 下 这 那 哪 个 "
    "吗 呢 吧 啊 呀 么 什么 怎么 怎样 如何 多少 几 哪些 哪个 哪里 谁 为什么 是否 多久 何时 "
    "什么样 请问 一下 我 你 他 她 它 我们 你们 他们 今年 the a an of to in on for is are was "
    "were what which who when where how many much does do did and or by with at".split()
)
_WORD = re.compile(r"\w", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Split normalised text into search words: jieba's fine-grained cut, lowercased."""
    # rjieba is jieba's algorithm and dictionary in Rust: same words, ready in milliseconds
    # where jieba spends ~0.7 s building its prefix dictionary (most of a one-shot query).
    words = rjieba.cut_for_search(normalize(text).lower())
    return [w for w in words if _WORD.search(w) and w.strip()]


def query_terms(query: str) -> list[str]:
    """Return the words of a question worth matching: no stopwords, longest first."""
    terms = {t for t in tokenize(query) if t not in STOPWORDS}
    return sorted(terms, key=lambda t: (-len(t), t))


class LexicalIndex:
    """A BM25 index over paragraph texts, saved beside the vector index."""

    def __init__(self, retriever: object) -> None:
        self._retriever = retriever
        self._vocab: dict[str, int] = retriever.vocab_dict  # type: ignore[attr-defined]

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        import bm25s

        corpus_tokens = [tokenize(t) for t in texts]
        retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        retriever.index(corpus_tokens, show_progress=False)
        return cls(retriever)

    def save(self, directory: Path) -> None:
        self._retriever.save(str(directory), show_progress=False)  # type: ignore[attr-defined]

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(directory), show_progress=False, mmap=False))

    def scores(self, query: str) -> np.ndarray:
        """Return the BM25 score of every paragraph for the question."""
        tokens = [t for t in tokenize(query) if t in self._vocab and t not in STOPWORDS]
        n = int(self._retriever.scores["num_docs"])  # type: ignore[attr-defined]
        if not tokens:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)  # type: ignore[attr-defined]
