"""Tests for retrieval.search.translate: English questions through the corpus's own words."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.search import Searcher
from retrieval.search.confidence import nothing_in_common
from retrieval.search.searcher import TRANSLATION_MIX
from retrieval.search.translate import (
    QueryTranslator,
    Translation,
    english_forms,
    gloss_keys,
    spells_pinyin,
)

VOCABULARY = ["迎泽", "大街", "停水", "供水", "青年", "道路", "午餐", "安全", "学生", "山西"]
VOCABULARY += ["政府", "aed", "hl7496"]


@pytest.fixture(scope="module")
def translator() -> QueryTranslator:
    return QueryTranslator(VOCABULARY)


def test_names_come_through_pinyin_and_words_through_the_dictionary(
    translator: QueryTranslator,
) -> None:
    translation = translator.translate("When will the water be cut off on Yingze Street?")
    words = translation.text.split()
    assert "迎泽" in words  # CC-CEDICT's [Ying2 ze2]
    assert "大街" in words and "供水" in words
    # water, yingze, street found; "cut" and "off" have no word in this vocabulary.
    assert translation.share == pytest.approx(3 / 5)
    # One group of corpus words per English word found, for BM25 to score by its best one.
    assert ("迎泽",) in translation.sense_groups
    assert [w for group in translation.sense_groups for w in group] == words


def test_only_the_corpus_words_are_offered(translator: QueryTranslator) -> None:
    words = translator.translate("Is the school lunch safe for students?").text.split()
    assert set(words) <= set(VOCABULARY)
    assert {"午餐", "安全", "学生"} <= set(words)


def test_a_question_with_no_translatable_word_gives_nothing(translator: QueryTranslator) -> None:
    assert translator.translate("Who wrote Pride and Prejudice?").text == ""
    assert translator.translate("what is it?") == Translation("", 0.0)


def test_a_corpus_word_counts_in_one_group_only() -> None:
    translator = QueryTranslator(["电话", "号码", "咨询"])
    translation = translator.translate("What phone number can residents call?")
    # `phone number`, `phone` and `number` all give 电话: it counts once, with the phrase.
    groups = translation.sense_groups
    assert sum(group.count("电话") for group in groups) == 1
    assert "电话" in groups[0]


def test_share_counts_the_content_words_found(translator: QueryTranslator) -> None:
    translation = translator.translate("Shanxi zebra")
    assert translation.text == "山西"
    assert translation.share == 0.5
    # Contractions of function words are function words: two content words here, not three.
    assert translator.translate("What's the Shanxi zebra?").share == 0.5


def test_inflections_reach_the_dictionary_form() -> None:
    assert "station" in english_forms("stations")
    assert "city" in english_forms("cities")
    assert "register" in english_forms("registered")
    assert gloss_keys("to cut off (water supply)") == ("cut off", ["cut", "off"])
    assert gloss_keys("CL:條|条[tiao2]") == (None, [])


def test_an_english_question_gets_a_lexical_half(searcher: Searcher) -> None:
    question = "When will the water be cut off on Yingze Street?"
    matched = searcher.lexical_query(question)
    assert "迎泽" in matched.text.split() and 0 < matched.evidence <= 1
    top = searcher.index.paragraphs[searcher.rank(question, "bm25")[0][0]]
    # §49, the cut on Yingze Street, not §50 (Qingnian Road, which names the street as its end):
    # each English word counts once, by its best corpus word, so the several senses of `water`
    # (供水, 储水, …) and `off` that §50 holds do not outweigh `Yingze` and `street`.
    assert top.number == 49 and "迎泽大街" in top.text and "停水" in top.text
    # A Chinese question is matched as it is.
    assert searcher.lexical_query("迎泽大街停水").text == "迎泽大街停水"


def test_a_question_sharing_nothing_with_the_corpus_is_never_confident(searcher: Searcher) -> None:
    for question in ("asdfghjkl", "98765", "How do I reset my iPhone password?"):
        retrieval = searcher.retrieve(question)
        assert retrieval.lexical_evidence == 0.0 and nothing_in_common(retrieval)
        ranked = searcher.rank_with_confidence(question)
        assert ranked.ranking and ranked.confidence == 0.0 and not ranked.confident
    # Unknown words beside one the corpus has: the model judges, the gate stays open.
    assert not nothing_in_common(searcher.retrieve("Yingze Street asdfghjkl"))
    assert not nothing_in_common(searcher.retrieve("斑马的条纹"))


def test_the_dense_half_reads_an_english_question_with_its_translation(searcher: Searcher) -> None:
    encode = searcher.encoder.encode_queries
    chinese = "迎泽大街停水"
    assert np.allclose(
        searcher.query_vector(chinese, searcher.lexical_query(chinese)), encode([chinese])[0]
    )
    english = "When will the water be cut off on Yingze Street?"
    matched = searcher.lexical_query(english)
    mixed = encode([english])[0] + TRANSLATION_MIX * encode([matched.text])[0]
    vector = searcher.query_vector(english, matched)
    assert np.allclose(vector, mixed / np.linalg.norm(mixed), atol=1e-6)
    assert vector.dtype == np.float32 and np.isclose(np.linalg.norm(vector), 1.0)


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("What is the capital of Australia?", ["Australia"]),
        ("What's the US dollar to euro exchange rate today?", ["US"]),  # an acronym
        ("山西今年上半年GDP增长了多少？", ["GDP"]),  # in a Chinese question too
        ("Australia's capital?", []),  # an English question's first word may be any word
        ("How many AEDs are installed in Shanxi?", []),  # aed as written, 山西 by pinyin
        ("HL7496是哪一年报废的？", []),  # a name with digits is one word, as the corpus has it
        ("HL7497是哪一年报废的？", ["HL7497"]),
        ("When will Yingze Street lose water?", []),
        ("Who wrote Pride and Prejudice?", ["Pride and Prejudice"]),  # a title, all unknown
        ("Does the Provincial Government fund it?", []),  # ordinary words; 政府 is known
        ("Is water cut on Yingze Street?", []),  # a title the corpus has (迎泽 大街)
        ("What did Yang Junmin say?", []),  # pinyin: a name the word cut may have split
        ("Where did Chen Yun'an go?", []),
        ("What did Mr Wang say on Mondays?", []),  # address and days are no names
        ("what is the capital of australia?", []),  # no capital: no name
    ],
)
def test_names_the_corpus_never_mentions(
    translator: QueryTranslator, question: str, names: list[str]
) -> None:
    assert translator.unknown_names(question) == names


def test_a_question_naming_what_the_corpus_lacks_is_not_found(searcher: Searcher) -> None:
    answer = searcher.search("What is the capital of Australia?")
    assert (answer.confident, answer.confidence, answer.unknown) == (False, 0.0, "Australia")
    assert answer.passages  # the closest passages are still shown, for reference
    assert searcher.search("When will the water be cut off on Yingze Street?").unknown is None


def test_pinyin_is_told_from_other_words() -> None:
    assert all(map(spells_pinyin, ["junmin", "yunan", "xiaodian", "taiyuan", "zhuang"]))
    assert not any(map(spells_pinyin, ["australia", "us", "gdp", "pride", "london", "smith"]))
