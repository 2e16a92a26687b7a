"""Telegram HTML of answers and paragraphs: escaping, bold matches, splitting at 4096."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.telegram.format import (
    HEADER_CHARS,
    MESSAGE_LIMIT,
    NO_MATCH,
    NO_MORE,
    NOT_ANSWERED,
    confidence_label,
    escape,
    pack,
    question_from_header,
    question_problem,
    render_answer,
    render_context,
    render_inline,
    strip_addressing,
    telegram_size,
)
from retrieval.ingest import Paragraph
from retrieval.search import Answer, Passage
from tests.support.telegram_server import parse_html

WATER = Paragraph(
    "news",
    49,
    "停水通知 (1)",
    "兹因迎泽大街道路工程，定于8月30日在青年路实施停水。",
    (("byline", "记者 尹哲"),),
)


def answer_of(texts: list[str], query: str = "青年路停水", first_rank: int = 1) -> Answer:
    passages = tuple(
        Passage(Paragraph("news", i + 1, "通知", text), 6.0 - i, first_rank + i)
        for i, text in enumerate(texts)
    )
    return Answer(query, passages, None, 50)


def check(parts: list[str]) -> list[str]:
    """Assert every part is Telegram HTML within the limit; return their plain texts."""
    plain = [parse_html(part) for part in parts]
    assert all(len(text.encode("utf-16-le")) // 2 <= MESSAGE_LIMIT for text in plain)
    assert [telegram_size(part) for part in parts] == [
        len(t.encode("utf-16-le")) // 2 for t in plain
    ]
    return plain


def test_an_answer_cites_its_passages_with_matches_in_bold() -> None:
    answer = Answer("青年路什么时候停水", (Passage(WATER, 6.2, 1),), True, 50)
    (part,) = render_answer(answer)
    header, _, head, body, tail = part.split("\n")
    assert header == "🔎 <b>青年路什么时候停水</b>"
    assert head == "<b>1. §49 · 停水通知 (1)</b> · <i>匹配度 高</i>"
    assert "实施<b>停水</b>。" in body and parse_html(body) == WATER.text
    assert tail == "<i>— 记者 尹哲</i>"
    (several,) = render_answer(answer, several_docs=True)
    assert "<b>1. news §49 · 停水通知 (1)</b>" in several


def test_the_answer_itself_heads_a_confident_answer_and_is_marked_in_its_paragraph() -> None:
    start = WATER.text.index("8月30日")
    end = start + len("8月30日")
    found = Passage(WATER, 6.2, 1, (start, end))
    (part,) = render_answer(Answer("青年路几点停水", (found,), True, 50))
    header, answer_line = part.split("\n")[:2]
    assert answer_line == f"💡 <b>{WATER.text[start:end]}</b> · §49"
    assert f"<b><u>{WATER.text[start:end]}</u></b>" in part
    (unsure,) = render_answer(Answer("青年路几点停水", (found,), False, 50))
    assert "💡" not in unsure


def test_a_paragraph_with_a_page_is_cited_with_it() -> None:
    paged = Paragraph("paper", 12, "停水通知", "兹因道路工程，青年路停水。", page=3)
    (part,) = render_answer(Answer("青年路停水", (Passage(paged, 6.2, 1),), True, 50))
    assert "<b>1. 第3页 §12 · 停水通知</b>" in part
    assert (
        "<b>1. paper 第3页 §12 · 停水通知</b>"
        in render_answer(
            Answer("青年路停水", (Passage(paged, 6.2, 1),), True, 50), several_docs=True
        )[0]
    )
    (context,) = render_context([paged], focus=12)
    assert context.startswith("<b>» 第3页 §12 · 停水通知</b>")


def test_everything_from_the_corpus_and_the_user_is_escaped() -> None:
    assert escape("<b>&\"'") == "&lt;b&gt;&amp;\"'"
    paragraph = Paragraph("d", 1, "<i>节</i>", "a < b && c > d <b>停水</b>", (("byline", "<x>"),))
    answer = Answer("<b>&\"' 停水", (Passage(paragraph, 1.0, 1),), None, 1)
    (plain,) = check(render_answer(answer))
    assert plain.startswith("🔎 <b>&\"' 停水\n")
    assert "§1 · <i>节</i>" in plain and "a < b && c > d <b>停水</b>" in plain
    assert plain.endswith("— <x>")


@pytest.mark.parametrize(
    ("confident", "passages", "page", "expected"),
    [
        (False, 3, 1, NOT_ANSWERED),
        (None, 0, 1, NO_MATCH),
        (True, 3, 4, "<i>第 4–6 条，共 50 条</i>"),
    ],
)
def test_the_header_says_what_kind_of_answer_follows(
    confident: bool | None, passages: int, page: int, expected: str
) -> None:
    answer = answer_of(["停水"] * passages, first_rank=page)
    total = 0 if passages == 0 else 50
    answer = Answer(answer.query, answer.passages, confident, total)
    assert expected in render_answer(answer)[0].split("\n\n")[0]


def test_no_more_results_past_the_end() -> None:
    assert NO_MORE in render_answer(Answer("停水", (), True, 50))[0]


def test_long_answers_split_at_passage_boundaries() -> None:
    texts = [f"第{i}段。" + "青年路停水。" * 250 for i in range(6)]  # two fit in a message
    parts = render_answer(answer_of(texts))
    plain = check(parts)
    assert len(parts) == 3
    # Each passage stays whole, in order, in one part.
    joined = "\n".join(plain)
    positions = [joined.index(f"第{i}段。") for i in range(6)]
    assert positions == sorted(positions)
    for text in texts:
        assert sum(text in p for p in plain) == 1


def test_a_passage_longer_than_a_message_continues_in_the_next() -> None:
    text = "".join(f"第{i}句讲青年路停水。" for i in range(900))
    plain = check(render_answer(answer_of([text, "短的一段。"])))
    assert len(plain) >= 3
    assert plain[1].startswith("（续）")
    assert (
        "".join(p.split("\n", 1)[1] if p.startswith("（续）") else p for p in plain).count(
            "第899句"
        )
        == 1
    )


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(
        st.text(alphabet="停水青年路<>&\"'。！？\n ab😀", min_size=1, max_size=3000),
        min_size=1,
        max_size=5,
    ),
    query=st.text(alphabet="停水<>&青年路 😀", min_size=1, max_size=400),
)
def test_any_text_gives_valid_html_within_the_limit(texts: list[str], query: str) -> None:
    answer = answer_of(texts, query=query)
    plain = check(render_answer(answer))
    assert plain[0].startswith(f"🔎 {query[:HEADER_CHARS]}")
    assert parse_html(render_inline(answer, answer.passages[0]))
    assert telegram_size(render_inline(answer, answer.passages[0])) <= MESSAGE_LIMIT


def test_the_question_is_read_back_from_the_answer_unless_cut() -> None:
    for question in ("青年路什么时候停水", "<b>&\"' 停水?"):
        plain = parse_html(render_answer(answer_of(["停水。"], query=question))[0])
        assert question_from_header(plain) == question
    long_question = "停" * (HEADER_CHARS + 10)
    plain = parse_html(render_answer(answer_of(["停水。"], query=long_question))[0])
    assert question_from_header(plain) is None
    assert question_from_header("你好！") is None and question_from_header(None) is None


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("/ask 青年路停水", "青年路停水"),
        ("/ask@QABot_test  青年路\n停水", "青年路 停水"),
        ("@qabot_test 青年路停水", "青年路停水"),
        ("青年路停水 @qabot_test", "青年路停水"),
        ("@qabot_test_other 停水", "@qabot_test_other 停水"),
        ("/asking 停水", "/asking 停水"),
    ],
)
def test_addressing_is_stripped_from_a_question(text: str, question: str) -> None:
    assert strip_addressing(text, "qabot_test") == question


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("", "请在 /ask 后面写上问题。"),
        ("😀👍！", "请用文字描述你的问题"),
        ("问" * 2001, "问题太长了（2001 字）。请精简到 2000 字以内再问。"),
        ("停水", None),
        ("why?", None),
        ("Hi there!", "你好！直接发送问题"),
        ("謝謝", "不客气"),
        ("你好，青年路什么时候停水？", None),
    ],
)
def test_what_cannot_be_a_question(text: str, hint: str | None) -> None:
    problem = question_problem(text)
    assert problem == hint if hint is None else problem is not None and hint in problem


@pytest.mark.parametrize(("score", "label"), [(7.1, "高"), (5.0, "高"), (3.5, "中"), (0.4, "低")])
def test_confidence_in_words(score: float, label: str) -> None:
    assert confidence_label(Passage(WATER, score, 1)) == f"匹配度 {label}"


def test_context_marks_the_paragraph_asked_for() -> None:
    before = Paragraph("news", 48, "要闻", "前一段。")
    (part,) = render_context([before, WATER], 49)
    assert part.startswith("<i>§48 · 要闻</i>\n前一段。\n\n<b>» §49 · 停水通知 (1)</b>\n")
    assert part.endswith("<i>— 记者 尹哲</i>")


def test_pack_joins_blocks_into_as_few_messages_as_fit() -> None:
    assert pack(["a", "b", "c"], limit=4) == ["a\n\nb", "c"]
    assert pack([]) == []


def test_a_paragraph_number_alone_gets_a_hint_not_a_search() -> None:
    hint = "想看第 12 段请发 /p 12；想提问请用文字，例如：青年路什么时候停水？"
    assert question_problem("12") == question_problem("#12") == hint
    assert question_problem("0351-4040123") is None  # a phone number is looked up
