"""Tests for retrieval.search.rerank: the second stage over the hybrid, with a stand-in reader.

The trained reader itself is tested in test_read.py; here a reader that prefers paragraphs
containing a word shows what re-ranking does with its readings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from retrieval.search import Searcher, rerank
from retrieval.search.rerank import READ_CANDIDATES, RERANKERS, ReaderReranker, confidence

DOC = "shanxi-taiyuan-news-2023-08-30"


@dataclass(frozen=True)
class Reading:
    score: float
    p_not_answer: float
    span: tuple[int, int] | None


class WordReader:
    """Says a paragraph answers when it holds the word, with the word as the answer span."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.calls: list[int] = []

    def read(self, question: str, passages: Sequence[str]) -> list[Reading]:
        self.calls.append(len(passages))
        out = []
        for text in passages:
            at = text.find(self.word)
            if at >= 0:
                out.append(Reading(5.0, 0.01, (at, at + len(self.word))))
            else:
                out.append(Reading(-5.0, 0.99, None))
        return out


def _with_reader(searcher: Searcher, reader: WordReader, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(searcher._rerankers, "reader", ReaderReranker(reader))


def test_the_reader_reorders_the_first_candidates_and_finds_the_span(
    searcher: Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "青年路什么时候停水"
    hybrid = searcher.rank(question, "hybrid")
    second = searcher.index.paragraphs[hybrid[1][0]]
    word = second.text[5:11]  # only the hybrid's second passage holds this
    reader = WordReader(word)
    _with_reader(searcher, reader, monkeypatch)
    monkeypatch.setattr(rerank, "FIRST_STAGE_WEIGHT", 0.5)
    answer = searcher.search(question, k=3, method="reader")
    assert reader.calls == [READ_CANDIDATES]
    assert answer.passages[0].paragraph == second
    span = answer.passages[0].span
    assert span is not None and second.text[span[0] : span[1]] == word
    # Judged by the reading of the passage put first, beside the hybrid's own confidence.
    prior = searcher.rank_with_confidence(question, "hybrid").confidence
    assert answer.confidence == pytest.approx(confidence(5.0, prior, False))
    ranked = searcher.rank(question, "reader")
    assert sorted(r for r, _ in ranked) == sorted(r for r, _ in hybrid)  # none lost, none added
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True)


def test_not_found_when_no_candidate_answers(
    searcher: Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_reader(searcher, WordReader("这个词不在任何段落里"), monkeypatch)
    answer = searcher.search("青年路什么时候停水", method="reader")
    assert answer.confident is False
    assert answer.passages and all(p.span is None for p in answer.passages)


def test_reader_is_a_method_and_made_once(
    searcher: Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[ReaderReranker] = []

    def make() -> ReaderReranker:
        made.append(ReaderReranker(WordReader("停水")))
        return made[-1]

    monkeypatch.setitem(RERANKERS._entries, "reader", make)
    searcher.search("青年路什么时候停水", method="reader")
    searcher.search("迎泽大街什么时候停水", method="reader")
    assert len(made) == 1


def test_confidence_follows_the_reader_and_the_first_stage() -> None:
    # The fitted model must give both signals a positive say, whatever the constants.
    assert confidence(4.0, 0.5, False) > confidence(-4.0, 0.5, False)
    assert confidence(0.0, 0.9, False) > confidence(0.0, 0.1, False)
    assert 0.0 < confidence(-60.0, 0.0, True) < confidence(60.0, 1.0, True) < 1.0


def test_a_question_without_cjk_ranks_by_the_first_stage_when_the_reader_has_no_say(
    searcher: Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "When will the water be cut off on Yingze Street?"
    hybrid = searcher.rank(question, "hybrid")
    second = searcher.index.paragraphs[hybrid[1][0]]
    _with_reader(searcher, WordReader(second.text[5:11]), monkeypatch)
    monkeypatch.setattr(rerank, "FIRST_STAGE_WEIGHT", 0.5)
    monkeypatch.setattr(rerank, "LATIN_READER_WEIGHT", 0.0)
    assert [r for r, _ in searcher.rank(question, "reader")] == [r for r, _ in hybrid]
    monkeypatch.setattr(rerank, "LATIN_READER_WEIGHT", 1.0)
    assert searcher.rank(question, "reader")[0][0] == hybrid[1][0]
