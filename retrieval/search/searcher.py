"""Answer a question from a loaded index: retrieve candidates, rank them, judge confidence."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import threadpoolctl

from retrieval.embed.encoders import Encoder
from retrieval.errors import QabotError, Remedy, UsageError
from retrieval.ingest import Paragraph
from retrieval.search.answers import answer_span
from retrieval.search.asks import missing_kind, prefer_what_is_asked
from retrieval.search.candidates import LexicalQuery, Ranking, Retrieval, best_first
from retrieval.search.confidence import (
    THRESHOLD,
    Signals,
    is_latin,
    nothing_in_common,
    probability,
)
from retrieval.search.fusion import RANKING_METHODS, ranking_method
from retrieval.search.question import check_question
from retrieval.search.refs import BadParagraphRef
from retrieval.search.rerank import RERANKERS, Reranker
from retrieval.search.titles import prefer_named_titles
from retrieval.search.translate import QueryTranslator, capitalised_words
from retrieval.store.index import EMBEDDINGS, LoadedIndex
from retrieval.store.paragraphs import Rows

# How deep each half is read before fusing; beyond this a paragraph is not a candidate.
CANDIDATES = 100
# Every ranking method: the first-stage ones, then each re-ranker (over the hybrid).
METHODS = RANKING_METHODS.names + RERANKERS.names
# What qabot serves when no method is asked for.
DEFAULT_METHOD = "hybrid"
# The dense z-score of a question needs the mean and spread of its cosines to the corpus:
# exact up to this many paragraphs, from an even sample of them beyond.
BACKGROUND_ROWS = 4096
# How far a dictionary translation of an English question is trusted, against the words of a
# Chinese question: it scales the lexical half's evidence (search/fusion.py). Chosen on the
# English questions of corpus/gold's dev half.
TRANSLATION_TRUST = 0.5
# The dense half reads an English question together with its translation: the question's
# vector plus TRANSLATION_MIX x the vector of the corpus words translating it (e5's
# cross-lingual match alone is weak). Chosen on the English questions of corpus/gold's dev
# half: dense R@1 5/12 alone, 7/12 at 0.25, 0.5 and 1.0, 5/12 at 2.0.
TRANSLATION_MIX = 0.5
# The dense half reads this many characters of a question (the lexical half reads it all). A
# question rarely has more; a pasted page of 2,000 characters took the encoder 5-7 s (it
# reads past the model's 512-token window in slices), while the bot's other users waited for
# the same encoder. 256 characters are at most ~200 tokens of Chinese, one short window.
DENSE_QUESTION_CHARS = 256


def dense_text(text: str) -> str:
    """Return what the dense half reads of a question: all of it, or for a longer one its
    first and last DENSE_QUESTION_CHARS / 2 characters (a pasted passage is often followed by
    the question about it: `请看这段：…… 问：什么时候停水？`)."""
    if len(text) <= DENSE_QUESTION_CHARS:
        return text
    half = DENSE_QUESTION_CHARS // 2
    return f"{text[:half]} … {text[-half:]}"


@dataclass(frozen=True)
class Passage:
    """One ranked paragraph for a question."""

    paragraph: Paragraph
    score: float
    rank: int
    span: tuple[int, int] | None = None  # the answer's character offsets in paragraph.text


@dataclass(frozen=True)
class Answer:
    """The ranked passages for a question, and whether the corpus really answers it.

    `confidence` is the calibrated probability that the first passage answers the question;
    `confident` is it compared with the threshold chosen on the dev questions.
    """

    query: str
    passages: tuple[Passage, ...]
    confident: bool | None
    total: int
    confidence: float | None = None
    missing: str | None = None  # what the question asks for that the first passage lacks
    unknown: str | None = None  # a name in the question the corpus never mentions


@dataclass(frozen=True)
class Ranked:
    """A question's ranking by one method, with the probability that the corpus answers it."""

    ranking: Ranking
    confidence: float
    threshold: float  # the method's line between confident and not
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)  # row -> answer offsets
    missing: str | None = None  # the kind asked for (search/asks.py) the first passage lacks
    unknown: str | None = None  # a name in the question the corpus never mentions

    @property
    def confident(self) -> bool:
        return self.confidence >= self.threshold


def check_method(method: str, option: str = "") -> None:
    """Raise a usage error naming every method there is (re-rankers too), for an unknown one;
    `option` says where it was given (`--methods`)."""
    if method not in METHODS:
        where = f" in {option}" if option else ""
        raise UsageError(f"unknown method {method!r}{where}; choose from {', '.join(METHODS)}")


class Searcher:
    """Answer questions from a loaded index, encoding questions with a (lazily made) encoder."""

    def __init__(self, index: LoadedIndex, encoder: Callable[[], Encoder]) -> None:
        # A question is one vector: BLAS threads for its products cost more in wake-ups than
        # they save. On a busy 2-core machine the 4096x384 background product took 16 ms with
        # two OpenBLAS threads and 0.3 ms with one (most of a 10k-paragraph hybrid query).
        threadpoolctl.threadpool_limits(1, user_api="blas")
        self.index = index
        self._make_encoder = encoder
        self._encoder: Encoder | None = None
        self._background: np.ndarray | None = None
        self._rerankers: dict[str, Reranker] = {}
        self._rerankers_lock = threading.Lock()
        self._translator: QueryTranslator | None = None
        self._translator_lock = threading.Lock()

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = self._make_encoder()
        return self._encoder

    def _vectors(self) -> tuple[Rows, np.ndarray]:
        """Return the stored paragraph vectors (read as needed) and the background sample."""
        path = self.index.directory / EMBEDDINGS
        try:
            embeddings = self.index.embeddings()  # opened once, by the index
        except (OSError, ValueError) as exc:
            raise QabotError(f"cannot read {path} ({exc})", remedy=Remedy.REBUILD_INDEX) from exc
        if self._background is None:
            n = len(embeddings)
            rows = np.unique(np.linspace(0, n - 1, min(n, BACKGROUND_ROWS)).astype(np.int64))
            self._background = np.ascontiguousarray(embeddings[rows], dtype=np.float32)
        return embeddings, self._background

    def query_vector(self, query: str, matched: LexicalQuery) -> np.ndarray:
        """Return the dense half's vector of the question (with its translation's, if any),
        as much of them as it reads (dense_text)."""
        if matched.text == query:
            return self.encoder.encode_queries([dense_text(query)])[0]
        both = self.encoder.encode_queries([dense_text(query), dense_text(matched.text)])
        vector = both[0] + TRANSLATION_MIX * both[1]
        return (vector / np.linalg.norm(vector)).astype(np.float32)

    def _dense(self, vector: np.ndarray, depth: int) -> list[tuple[int, float]]:
        scores, rows = self.index.vectors.search(vector[None, :], depth)
        top = [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]
        return best_first(dict(top))

    def translator(self) -> QueryTranslator:
        """Return the English-to-corpus-words dictionary, made on the first English question."""
        with self._translator_lock:
            if self._translator is None:
                self._translator = QueryTranslator(self.index.lexical.words())
            return self._translator

    def lexical_query(self, query: str) -> LexicalQuery:
        """Return what the lexical half matches, and the evidence it has (0 to 1).

        A question in Chinese is matched as it is; one without CJK characters through the
        corpus words that translate its words (search/translate.py), trusted less, unless the
        corpus has more of the question's own words (documents in its language).
        """
        lexical = self.index.lexical
        own = LexicalQuery(query, lexical.known_share(query))
        if not is_latin(query):
            return own
        translation = self.translator().translate(query)
        evidence = lexical.known_share(translation.text) * translation.share * TRANSLATION_TRUST
        if not translation.text or own.evidence >= evidence:
            return own
        return LexicalQuery(translation.text, evidence, translation.share, translation.sense_groups)

    def _lexical(self, matched: LexicalQuery, depth: int) -> tuple[dict[int, float], np.ndarray]:
        lexical = self.index.lexical
        if matched.sense_groups:
            scores = lexical.best_sense_scores(matched.sense_groups)
        else:
            scores = lexical.scores(matched.text)
        depth = min(depth, len(scores))
        if depth <= 0:
            return {}, scores
        top = (
            np.argpartition(-scores, depth - 1)[:depth]
            if depth < len(scores)
            else np.arange(len(scores))
        )
        return {int(r): float(scores[r]) for r in top if scores[r] > 0}, scores

    def retrieve(self, query: str, depth: int = CANDIDATES) -> Retrieval:
        """Run both halves for the question and gather what fusion and confidence need."""
        matched = self.lexical_query(query)
        vector = self.query_vector(query, matched)
        dense_top = self._dense(vector, depth)
        lexical, all_lexical = self._lexical(matched, depth)
        embeddings, background = self._vectors()
        cosines = background @ vector
        dense = dict(dense_top)
        # A lexical candidate the dense half did not reach still gets its exact cosine.
        missing = sorted(r for r in lexical if r not in dense)
        if missing:
            extra = np.asarray(embeddings[missing], dtype=np.float32) @ vector
            dense.update(zip(missing, (float(c) for c in extra), strict=True))
        return Retrieval(
            query,
            dense,
            lexical,
            dense_top,
            float(cosines.mean()),
            float(cosines.std()),
            float(all_lexical.mean()) if len(all_lexical) else 0.0,
            float(all_lexical.std()) if len(all_lexical) else 0.0,
            matched.evidence,
            matched.text,
            matched.share,
        )

    def reranker(self, name: str) -> Reranker:
        """Return the named re-ranker, made (its model loaded) on first use."""
        with self._rerankers_lock:
            if name not in self._rerankers:
                self._rerankers[name] = RERANKERS.get(name)()
            return self._rerankers[name]

    def rank(self, query: str, method: str = DEFAULT_METHOD, depth: int = CANDIDATES) -> Ranking:
        """Return (row, score) for the question, best first, by the given method.

        The single-half methods run only their half, so their speed can be measured alone.
        """
        if RERANKERS.find(method) is not None:
            return self.rank_with_confidence(query, method, depth).ranking
        rank = ranking_method(method)
        if method == "dense":
            return self._dense(self.query_vector(query, self.lexical_query(query)), depth)
        if method == "bm25":
            return best_first(self._lexical(self.lexical_query(query), depth)[0])
        if method == "hybrid":
            return self.hybrid(self.retrieve(query, depth))
        return rank(self.retrieve(query, depth))

    def hybrid(self, retrieval: Retrieval) -> Ranking:
        """Return the served first-stage ranking: the halves fused (search/fusion.py), the
        paragraphs whose title the question names moved up (search/titles.py), those without
        what the question asks for moved down (search/asks.py)."""
        paragraphs = self.index.paragraphs
        fused = ranking_method("hybrid")(retrieval)
        titled = prefer_named_titles(retrieval.query, fused, paragraphs.__getitem__)
        return prefer_what_is_asked(retrieval.query, titled, lambda row: paragraphs[row].text)

    def signals(self, retrieval: Retrieval, ranking: Ranking) -> Signals:
        """Return the confidence model's view of a question's retrieval."""
        cosine = max(retrieval.dense.values(), default=0.0)
        dense_z = retrieval.cosine_z(cosine)
        coverage = 0.0
        if ranking:
            top = self.index.paragraphs[ranking[0][0]]
            words = retrieval.lexical_query or retrieval.query
            # Words of a translated question with no corpus word count as not covered (the
            # share is 1 for a question matched as written).
            coverage = self.index.lexical.coverage(words, top.index_text) * retrieval.lexical_share
        return Signals(cosine, dense_z, coverage, 1.0 if is_latin(retrieval.query) else 0.0)

    def first_stage_confidence(self, retrieval: Retrieval, hybrid: Ranking) -> float:
        """Return the probability that the hybrid's first passage answers (0: nothing ranked,
        or the question shares nothing with the corpus)."""
        if not hybrid or nothing_in_common(retrieval):
            return 0.0
        return probability(self.signals(retrieval, hybrid))

    def rank_with_confidence(
        self, query: str, method: str = DEFAULT_METHOD, depth: int = CANDIDATES
    ) -> Ranked:
        """Return the ranking by the method, and the probability that the corpus answers it.

        A re-ranker judges by what it read; the first-stage methods all take the probability
        of the hybrid's first passage from the retrieval signals (search/confidence.py).
        Either way a question naming something the corpus never mentions, or whose first
        passage lacks the kind of thing it asks for (a time for 几点, a sum for 多少钱:
        search/asks.py), is not answered: probability 0.
        """
        check_method(method)
        retrieval = self.retrieve(query, depth)
        hybrid = self.hybrid(retrieval)
        confidence = self.first_stage_confidence(retrieval, hybrid)
        if RERANKERS.find(method) is not None:
            reranker = self.reranker(method)
            reread = reranker(query, hybrid, self.index.paragraphs, confidence)
            ranked = Ranked(reread.ranking, reread.confidence, reranker.threshold, reread.spans)
        else:
            ranking = hybrid if method == "hybrid" else ranking_method(method)(retrieval)
            ranked = Ranked(ranking, confidence, THRESHOLD)
        return self._judged_by_content(query, ranked)

    def _judged_by_content(self, query: str, ranked: Ranked) -> Ranked:
        """Return the ranking judged "not found" if the question names something the corpus
        never mentions, or if its first passage lacks the kind of thing asked for."""
        if not ranked.ranking:
            return ranked
        names = self.unknown_names(query)
        if names:
            return replace(ranked, confidence=0.0, unknown=names[0])
        lacking = missing_kind(query, self.index.paragraphs[ranked.ranking[0][0]].text)
        if lacking is None:
            return ranked
        return replace(ranked, confidence=0.0, missing=lacking.name)

    def unknown_names(self, query: str) -> list[str]:
        """Return the names in the question (`Australia`, `GDP`) the corpus never mentions,
        as written or through the dictionary (search/translate.py)."""
        capitalised = capitalised_words(query)
        if all(self.index.lexical.known_share(word) == 1.0 for word in capitalised):
            return []  # no name, or only names the corpus has as written: spare the dictionary
        return self.translator().unknown_names(query)

    def search(
        self, query: str, k: int = 3, offset: int = 0, method: str = DEFAULT_METHOD
    ) -> Answer:
        """Return passages offset+1 .. offset+k of the ranking, and whether they answer it."""
        text = check_question(query)
        ranked = self.rank_with_confidence(text, method, depth=max(CANDIDATES, offset + k))
        chosen = ranked.ranking[offset : offset + k]
        spans = dict(ranked.spans)
        if offset == 0 and chosen and chosen[0][0] not in spans and ranked.confident:
            # The answer itself, for a question asking for a figure, a sum, a date...
            span = answer_span(text, self.index.paragraphs[chosen[0][0]].text)
            if span is not None:
                spans[chosen[0][0]] = span
        passages = tuple(
            Passage(self.index.paragraphs[row], score, offset + i + 1, spans.get(row))
            for i, (row, score) in enumerate(chosen)
        )
        return Answer(
            text,
            passages,
            ranked.confident,
            len(ranked.ranking),
            ranked.confidence,
            ranked.missing,
            ranked.unknown,
        )

    def paragraph_ref(self, words: Sequence[str]) -> tuple[str, int]:
        """Turn the words naming a paragraph (`N`, or `DOC N`) into (doc, number).

        Raises:
            BadParagraphRef: they name no paragraph; it says why, with the valid range.
        """
        docs = self.index.documents
        if len(words) == 2:
            doc, given = words
        elif len(docs) > 1:
            raise BadParagraphRef("which_doc", docs)
        elif len(words) == 1:
            doc, given = docs[0], words[0]
        else:
            found = self.index.doc_range(docs[0])
            raise BadParagraphRef("missing", docs, docs[0], last=found[1] if found else 0)
        found = self.index.doc_range(doc)
        if found is None:
            raise BadParagraphRef("no_doc", docs, doc)
        try:
            number = int(given)
        except ValueError:
            raise BadParagraphRef("not_number", docs, doc, given, found[1]) from None
        if not 1 <= number <= found[1]:
            raise BadParagraphRef("out_of_range", docs, doc, given, found[1])
        return doc, number

    def neighbours(self, doc: str, number: int, radius: int = 1) -> list[Paragraph]:
        """Return paragraph `number` of `doc` with up to `radius` paragraphs on each side.

        Raises:
            BadParagraphRef: there is no such document or paragraph.
        """
        row = self.index.row_of(doc, number)
        if row is None:
            found = self.index.doc_range(doc)
            if found is None:
                raise BadParagraphRef("no_doc", self.index.documents, doc)
            raise BadParagraphRef("out_of_range", self.index.documents, doc, str(number), found[1])
        lo, hi = max(0, row - radius), min(len(self.index.paragraphs), row + radius + 1)
        return [p for p in self.index.paragraphs[lo:hi] if p.doc == doc]
