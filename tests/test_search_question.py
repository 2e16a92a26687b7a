"""Tests for retrieval.search.question: questions with nothing to look for never reach the index."""

from __future__ import annotations

import pytest

from bot.cli.main import main
from retrieval.errors import Remedy, UsageError
from retrieval.search.question import (
    MAX_QUESTION_CHARS,
    NoWordsError,
    NumberOnlyError,
    SmallTalkError,
    check_question,
    small_talk,
)


@pytest.mark.parametrize("text", ["👍👍", "……", "？？？！！。。，", " ~~ ", "___"])
def test_a_question_without_words_is_refused(text: str) -> None:
    with pytest.raises(NoWordsError) as caught:
        check_question(text)
    assert isinstance(caught.value, UsageError) and caught.value.remedy is Remedy.ASK_QUESTION


@pytest.mark.parametrize(
    ("text", "number"),
    [("12", "12"), ("§12", "12"), ("§ 12", "12"), ("#7？", "7"), ("１２", "12"), ("§1234", "1234")],
)
def test_a_paragraph_number_alone_is_refused_with_the_way_to_read_it(
    text: str, number: str
) -> None:
    with pytest.raises(NumberOnlyError) as caught:
        check_question(text)
    assert caught.value.remedy is Remedy.SHOW_PARAGRAPH and caught.value.data == {"number": number}


@pytest.mark.parametrize(
    "text", ["2023", "12345", "3.14159", "0351-4040123", "1+1", "10%", "0", "§0"]
)
def test_a_longer_number_is_searched_for(text: str) -> None:
    # Where a year, a phone number or a document number appears is worth looking up (and
    # there is no paragraph 0 to offer).
    assert check_question(text) == text


def test_cli_offers_the_paragraph_a_number_may_stand_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ask", "§12"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: the question '§12' is only a number, with no words to look for; ask in words "
        '(qabot ask "青年路什么时候停水"), or read paragraph 12 with: qabot show 12'
    ]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("hello", "greeting"),
        ("Hi there!", "greeting"),
        ("Good morning 😀", "greeting"),
        ("How's it going?", "greeting"),
        ("how are you", "greeting"),
        ("Nice to meet you!", "greeting"),
        ("您好！", "greeting"),
        ("thanks a lot", "thanks"),
        ("謝謝！", "thanks"),
        ("谢谢你的回答", "thanks"),
        ("Thanks for your help!", "thanks"),
        ("ok thanks, bye!", "thanks"),
        ("谢谢，再见", "thanks"),
        ("再见", "farewell"),
        ("ok bye", "farewell"),
        ("好的", "acknowledgement"),
        ("ok", "acknowledgement"),
        ("嗯", "acknowledgement"),
        ("help", "help"),
        ("帮助", "help"),
        ("怎么用？", "help"),
        ("你能做什么", "help"),
        ("How do I use this?", "help"),
        ("/?", "help"),
        ("？", "help"),
        ("Hi! Thanks a lot", "greeting"),
        ("你好，怎么用", "greeting"),
    ],
)
def test_small_talk_is_refused_and_says_which_kind(text: str, kind: str) -> None:
    assert small_talk(text) == kind
    with pytest.raises(SmallTalkError) as caught:
        check_question(text)
    assert caught.value.data["kind"] == kind and caught.value.remedy is Remedy.ASK_QUESTION


@pytest.mark.parametrize(
    "text",
    [
        "12345",
        " 停水？ ",
        "hello, when is the water cut off?",
        "你好，青年路什么时候停水？",
        "谢谢你们送戏下乡了多少场",
        "hi, when is the water cut off?",
        "thanks, and how many AEDs?",
        "help me find the water cut",
        "怎么用AED",
        "好的，青年路什么时候停水",
        "2023年",
        "AED",
        "hi " * 600,  # long: a question (and checked in linear time)
        "x" * MAX_QUESTION_CHARS,
    ],
)
def test_questions_with_words_pass(text: str) -> None:
    assert small_talk(text) is None
    assert check_question(text) == text.strip()


@pytest.mark.parametrize(
    ("question", "problem"),
    [
        ("👍👍", "the question '👍👍' has no words to look for"),
        ("hi there", "'hi there' is small talk, not a question about the corpus"),
        (
            "help",
            "'help' asks how to use qabot: it answers questions about the corpus with the "
            "paragraphs that answer them",
        ),
        (
            "/?",
            "'/?' asks how to use qabot: it answers questions about the corpus with the "
            "paragraphs that answer them",
        ),
    ],
)
def test_cli_says_what_to_do_instead_and_exits_2(
    question: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", question]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f'error: {problem}; type a question, e.g. qabot ask "青年路什么时候停水"']


NOT_UTF8 = "the question holds bytes that could not be read as text"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        # printf '\xff\xfe\xc3\x28青年路停水' as argv or stdin decodes it (surrogateescape).
        (
            b"\xff\xfe\xc3(\xe9\x9d\x92".decode("utf-8", "surrogateescape"),
            r"\xff\xfe\xc3 at character 1",
        ),
        ("青年路停水\udcff", r"\xff at character 6"),
        ("青年路\ud800停水", "at character 4"),  # a lone surrogate from a JSON escape
    ],
)
def test_bytes_that_are_not_utf8_are_refused(text: str, where: str) -> None:
    with pytest.raises(UsageError) as caught:
        check_question(text)
    assert caught.value.message == f"{NOT_UTF8} ({where}); type it again, or convert it to UTF-8"


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_cli_refuses_bytes_that_are_not_utf8_in_one_line(
    json_flag: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    question = b"\xff\xfe\xc3(\xe9\x9d\x92\xe5\xb9\xb4".decode("utf-8", "surrogateescape")
    assert main(["ask", question, *json_flag]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # as for every other question refused: the error alone
    assert captured.err.splitlines() == [
        rf"error: {NOT_UTF8} (\xff\xfe\xc3 at character 1); type it again, or convert it to UTF-8"
    ]
