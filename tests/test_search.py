"""Tests for retrieval.search.searcher: the halves, z-score fusion, paging, the confidence."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.wording import cli_message
from retrieval.engine import Engine
from retrieval.errors import QabotError, Remedy
from retrieval.search import LEXICAL_WEIGHT, Searcher, confidence, ranking_method
from retrieval.search.fusion import RANKING_METHODS
from retrieval.search.searcher import DENSE_QUESTION_CHARS, dense_text
from tests.conftest import FakeEncoder

DOC = "shanxi-taiyuan-news-2023-08-30"


def test_each_method_ranks_the_matching_paragraph_high(searcher: Searcher) -> None:
    question = "青年路什么时候停水"
    for method in RANKING_METHODS.names:  # the first stage; the reader has its own tests
        rows = [r for r, _ in searcher.rank(question, method)]
        ids = [searcher.index.paragraphs[r].id for r in rows]
        # The bag-of-characters encoder is crude; BM25 and the fusion must get it first.
        assert f"{DOC}#50" in (ids[:1] if method != "dense" else ids[:10]), method


def test_unknown_method_is_a_one_line_error(searcher: Searcher) -> None:
    with pytest.raises(QabotError, match="unknown method 'rrf'"):
        searcher.rank("停水", "rrf")


def test_hybrid_score_is_dense_z_plus_weighted_lexical_z(searcher: Searcher) -> None:
    retrieval = searcher.retrieve("迎泽大街停水")
    for row, fused in ranking_method("hybrid")(retrieval)[:5]:
        expected = retrieval.dense_z(row) + LEXICAL_WEIGHT * retrieval.lexical_z(row)
        assert fused == pytest.approx(expected)
    # Every lexical candidate has an exact cosine, even one the dense half did not rank.
    assert set(retrieval.lexical) <= set(retrieval.dense)


def test_without_lexical_match_hybrid_follows_dense(searcher: Searcher) -> None:
    question = "How do I reset my iPhone password?"  # no word the dictionary finds in the page
    retrieval = searcher.retrieve(question)
    assert retrieval.lexical == {}
    hybrid = [r for r, _ in ranking_method("hybrid")(retrieval)]
    assert hybrid == [r for r, _ in ranking_method("dense")(retrieval)]


def test_paging_follows_the_ranking(searcher: Searcher) -> None:
    question = "民生实事资金"
    ranking = [r for r, _ in searcher.rank(question)]
    first = searcher.search(question, k=3)
    second = searcher.search(question, k=3, offset=3)
    shown = [searcher.index.row_of(p.paragraph.doc, p.paragraph.number) for p in first.passages]
    shown += [searcher.index.row_of(p.paragraph.doc, p.paragraph.number) for p in second.passages]
    assert shown == ranking[:6]
    assert [p.rank for p in second.passages] == [4, 5, 6]


def test_every_answer_has_a_confidence(searcher: Searcher) -> None:
    answer = searcher.search("青年路什么时候停水")
    assert isinstance(answer.confident, bool)
    assert answer.confidence is not None and 0.0 <= answer.confidence <= 1.0
    assert answer.confident == (answer.confidence >= confidence.THRESHOLD)


def test_probability_rises_with_each_signal() -> None:
    base = confidence.Signals(cosine=0.85, dense_z=3.0, coverage=0.2, latin=0.0)
    for field in ("cosine", "dense_z", "coverage"):
        higher = confidence.Signals(**{**base.__dict__, field: getattr(base, field) + 0.1})
        assert confidence.probability(higher) > confidence.probability(base), field


def test_latin_questions_are_detected() -> None:
    assert confidence.is_latin("When is the water cut off?")
    assert not confidence.is_latin("When does 青年路 lose water?")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "paragraph"),
    [
        ("青年路什么时候停水？", 50),
        ("既有住宅加裝電梯已經開工多少部？", 15),
        ("How many pupils are expected to be served by the safe lunch program?", 7),
    ],
)
def test_real_model_answers_with_confidence(
    seed_engine: Engine, question: str, paragraph: int
) -> None:
    answer = seed_engine.searcher.search(question)
    assert answer.passages[0].paragraph.number == paragraph
    assert answer.confident is True


@pytest.mark.slow
@pytest.mark.parametrize("question", ["怎么用Python读取Excel文件？", "太原明天天气怎么样？"])
def test_real_model_flags_off_topic_questions(seed_engine: Engine, question: str) -> None:
    answer = seed_engine.searcher.search(question)
    assert answer.confident is False
    assert answer.passages  # the closest passages are still shown, for reference


def test_index_directory_without_embeddings_is_a_clear_error(
    searcher: Searcher, tmp_path: Path
) -> None:
    elsewhere = dataclasses.replace(searcher.index, directory=tmp_path, _embeddings=None)
    broken = Searcher(elsewhere, lambda: FakeEncoder())
    with pytest.raises(QabotError) as caught:
        broken.search("停水")
    # The engine names the remedy; the CLI words it as a command.
    assert caught.value.remedy is Remedy.REBUILD_INDEX
    assert cli_message(caught.value).endswith("; run: qabot index --rebuild")


def test_searching_uses_one_blas_thread(searcher: Searcher) -> None:
    import threadpoolctl

    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        Searcher(searcher.index, FakeEncoder)
        blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
        assert blas and all(p["num_threads"] == 1 for p in blas)


def test_a_retrieval_without_rows_is_the_answer_removed_corpus(searcher: Searcher) -> None:
    retrieval = searcher.retrieve("青年路什么时候停水")
    top = searcher.rank("青年路什么时候停水", "hybrid")[0][0]
    removed = retrieval.without({top})
    assert top not in removed.dense and top not in removed.lexical
    assert top not in {r for r, _ in removed.dense_top}
    assert len(removed.dense) == len(retrieval.dense) - 1
    assert removed.dense_mean == retrieval.dense_mean  # the corpus statistics stay


def test_the_dense_half_reads_the_start_of_a_long_question(
    searcher: Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pasted page costs the encoder one short window, not seconds the bot's other users
    # wait for; its start and its end (where the question often is) are read, and the
    # lexical half still reads every word.
    question = "请看这段：" + "请问" * 990 + "迎泽大街停水时间"
    seen: list[str] = []

    class Recording(FakeEncoder):
        def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
            seen.extend(texts)
            return super().encode_queries(texts)

    monkeypatch.setattr(searcher, "_encoder", Recording())
    answer = searcher.search(question)
    half = DENSE_QUESTION_CHARS // 2
    assert seen == [f"{question[:half]} … {question[-half:]}"]
    assert len(question) > 2 * DENSE_QUESTION_CHARS
    assert dense_text("迎泽大街停水时间") == "迎泽大街停水时间"
    assert answer.passages[0].paragraph.number in (49, 50)  # the two water-cut notices
