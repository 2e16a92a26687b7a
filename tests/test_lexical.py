"""Tests for retrieval.words, retrieval.normalize and the BM25 index (retrieval.store.lexical)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from retrieval.errors import IndexStateError
from retrieval.normalize import normalize
from retrieval.store.lexical import SETTINGS_FILE, LexicalIndex
from retrieval.words import BIGRAM_MARK, bigrams, index_tokens, query_terms, tokenize

TEXTS = [
    "兹因配合供水管线阀门更换工程,定于2023年8月31日20时在青年路实施停水。",
    "迎泽大街道路工程,定于2023年8月30日15时在迎泽大街路南实施停水。",
    "在人流密集公共场所配置自动体外除颤器(AED),今年将达到2823台。",
    "“免费送戏下乡进村”惠民工程自2017年启动以来,送戏总数已突破10万场。",
]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＥＤ　１２３", "AED 123"),  # full-width letters, digits and space
        ("臺灣  停水\t通知", "台湾 停水 通知"),  # Traditional -> Simplified, spaces folded
        ("  迎澤大街 ", "迎泽大街"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_traditional_and_simplified_give_the_same_tokens() -> None:
    assert index_tokens("迎澤大街為什麼停水") == index_tokens("迎泽大街为什么停水")


def test_bigrams_cover_cjk_and_digits_but_not_latin_words() -> None:
    pairs = bigrams("青年路 AED 2823台")
    assert f"{BIGRAM_MARK}青年" in pairs and f"{BIGRAM_MARK}年路" in pairs
    assert f"{BIGRAM_MARK}28" in pairs and f"{BIGRAM_MARK}3台" in pairs
    assert not any(p[1:].isascii() and p[1:].isalpha() for p in pairs)


def test_tokenize_drops_punctuation_and_lowercases() -> None:
    words = tokenize("AED，青年路！")
    assert "aed" in words and "青年" in words
    assert all(w.strip("，！,!") == w for w in words)


def test_query_terms_drop_stopwords() -> None:
    assert "什么" not in query_terms("青年路什么时候停水")
    assert "停水" in query_terms("青年路什么时候停水")


def test_round_trip_gives_the_same_scores(tmp_path: Path) -> None:
    built = LexicalIndex.build(TEXTS)
    built.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    for question in ("青年路什么时候停水", "除颤器有多少台", "送戲下鄉"):
        assert np.allclose(built.scores(question), loaded.scores(question))
    assert int(np.argmax(loaded.scores("青年路停水"))) == 0


def test_index_of_another_tokenizer_is_refused(tmp_path: Path) -> None:
    LexicalIndex.build(TEXTS).save(tmp_path)
    settings = json.loads((tmp_path / SETTINGS_FILE).read_text(encoding="utf-8"))
    (tmp_path / SETTINGS_FILE).write_text(
        json.dumps({**settings, "tokenizer_version": 1}), encoding="utf-8"
    )
    with pytest.raises(IndexStateError, match="other word-splitting"):
        LexicalIndex.load(tmp_path)


def test_question_of_stopwords_only_scores_nothing() -> None:
    scores = LexicalIndex.build(TEXTS).scores("什么是")
    assert scores.shape == (len(TEXTS),) and not scores.any()


def test_a_translated_word_counts_once_by_its_best_sense() -> None:
    index = LexicalIndex.build(["年度 年份 周年", "年度 停水", "免费 送戏"])
    # `year` has three senses in the corpus, `water cut` one: the first paragraph holds every
    # sense of one word, the second a sense of each, which is what the question asks.
    flat = index.scores("年度 年份 周年 停水")
    assert flat[0] > flat[1]
    scores = index.best_sense_scores([("年度", "年份", "周年"), ("停水",)])
    assert scores[1] > scores[0] > scores[2] == 0.0
    assert not index.best_sense_scores([]).any()


def test_best_sense_scores_of_single_senses_are_the_bm25_scores() -> None:
    index = LexicalIndex.build(TEXTS)
    words = [("青年路",), ("停水",), ("除颤器",), ("斑马",), ("2023",)]
    expected = sum(index.scores(sense) for (sense,) in words)
    assert np.allclose(index.best_sense_scores(words), expected)
    # and the best of two senses is the larger of their scores, paragraph by paragraph
    both = index.best_sense_scores([("停水", "送戏下乡")])
    assert np.allclose(both, np.maximum(index.scores("停水"), index.scores("送戏下乡")))


def test_coverage_is_share_of_question_words_in_text() -> None:
    index = LexicalIndex.build(TEXTS)
    assert index.coverage("青年路实施停水", TEXTS[0]) == pytest.approx(1.0)
    assert index.coverage("青年路实施停水", TEXTS[2]) == pytest.approx(0.0)
    # Words no paragraph has weigh most: asking about them leaves most of the question uncovered.
    partial = index.coverage("青年路实施停水补偿标准", TEXTS[0])
    assert 0.0 < partial < 0.6
    assert index.coverage("", TEXTS[0]) == 0.0


def test_known_share_is_low_for_a_question_in_another_script() -> None:
    index = LexicalIndex.build(TEXTS)
    # 青年, 路 and 停水 are in the texts, 时候 is not; 什么 is a stopword.
    assert index.known_share("青年路什么时候停水") == 0.75
    assert index.known_share("When is the water cut on Qingnian Road?") == 0.0
    assert index.known_share("👍👍") == 0.0
