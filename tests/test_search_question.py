"""Tests for retrieval.search.question: questions with nothing to look for never reach the index."""

from __future__ import annotations

import pytest

from bot.cli.main import main
from retrieval.errors import Remedy, UsageError
from retrieval.search.question import MAX_QUESTION_CHARS, NoWordsError, check_question


@pytest.mark.parametrize("text", ["👍👍", "……", "？？？！！。。，", " ~~ "])
def test_a_question_without_words_is_refused(text: str) -> None:
    with pytest.raises(NoWordsError) as caught:
        check_question(text)
    assert isinstance(caught.value, UsageError) and caught.value.remedy is Remedy.ASK_QUESTION


@pytest.mark.parametrize("text", ["hello", "12345", " 停水？ ", "x" * MAX_QUESTION_CHARS])
def test_questions_with_words_pass(text: str) -> None:
    assert check_question(text) == text.strip()


def test_cli_says_what_to_do_instead_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "👍👍"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: the question '👍👍' has no words to look for; "
        'type a question, e.g. qabot ask "青年路什么时候停水"'
    ]
