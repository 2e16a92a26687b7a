"""Tests for bot.render: the answer the reader found, shown in the terminal, JSON and Telegram."""

from __future__ import annotations

import json

from bot.render import ANSWER, answer_text, render_json, render_text
from bot.telegram.format import render_answer
from retrieval.ingest import Paragraph
from retrieval.search import Answer, Passage

TEXT = "今年,我省决定全年免费送戏1万场。省、市、县三级投入经费上亿元。"
SPAN = (TEXT.index("全年"), TEXT.index("场") + 1)


def _answer(span: tuple[int, int] | None) -> Answer:
    paragraph = Paragraph("news", 16, "免费送戏下乡", TEXT)
    return Answer(
        "今年计划免费送戏下乡多少场？", (Passage(paragraph, 7.5, 1, span),), True, 1, 0.97
    )


def test_the_answer_is_the_span_of_the_paragraph() -> None:
    assert answer_text(_answer(SPAN).passages[0]) == "全年免费送戏1万场"
    assert answer_text(_answer(None).passages[0]) is None


def test_terminal_shows_the_answer_bold_and_underlined_or_on_its_own_line() -> None:
    colored = render_text(_answer(SPAN), color=True)
    assert f"{ANSWER}全年免费送戏1万场" in colored
    plain = render_text(_answer(SPAN), color=False)
    assert "   answer: 全年免费送戏1万场\n   今年,我省决定" in plain
    assert "answer:" not in render_text(_answer(None), color=False)


def test_json_gives_the_answer_or_null() -> None:
    assert json.loads(render_json(_answer(SPAN)))["answers"][0]["answer"] == "全年免费送戏1万场"
    assert json.loads(render_json(_answer(None)))["answers"][0]["answer"] is None


def test_telegram_marks_the_answer_inside_the_paragraph() -> None:
    html = "\n".join(render_answer(_answer(SPAN)))
    assert "<b><u>全年免费送戏1万场</u></b>" in html
    assert "<u>" not in "\n".join(render_answer(_answer(None)))


def test_not_found_says_what_the_closest_passage_lacks() -> None:
    paragraph = Paragraph("news", 24, "人群密集公共场所增配AED", "今年将达到2823台。")
    passages = (Passage(paragraph, 5.6, 1),)
    lacking = Answer("配置一台AED要花多少钱？", passages, False, 1, 0.0, "money")
    assert render_text(lacking, color=False).startswith(
        "Not found: the closest passage gives no amount of money, so the corpus"
    )
    assert json.loads(render_json(lacking))["missing"] == "money"
    assert "最接近的段落里没有金额" in render_answer(lacking)[0]
    unexplained = Answer(lacking.query, lacking.passages, False, 1, 0.02)
    assert render_text(unexplained, color=False).startswith("Not found: the corpus does not")
    assert json.loads(render_json(unexplained))["missing"] is None
    assert "最接近的段落里没有" not in render_answer(unexplained)[0]


def test_not_found_names_what_the_corpus_never_mentions() -> None:
    paragraph = Paragraph("news", 50, "停水通知", "青年路停水。")
    passages = (Passage(paragraph, 1.2, 1),)
    answer = Answer("What is the capital of Australia?", passages, False, 1, 0.0, None, "Australia")
    assert render_text(answer, color=False).startswith(
        "Not found: the corpus never mentions Australia."
    )
    assert json.loads(render_json(answer))["unknown"] == "Australia"
    assert "资料里没有提到“Australia”" in render_answer(answer)[0]
    escaped = Answer("<b>?", passages, False, 1, 0.0, None, "<B>")
    assert "“&lt;B&gt;”" in render_answer(escaped)[0]


def test_the_answer_is_marked_where_it_is_not_wherever_its_text_is() -> None:
    text = "全省新建9所、改建19所、扩建29所。"
    paragraph = Paragraph("news", 8, "特教学校", text)
    span = (text.index("9所"), text.index("9所") + 2)
    answer = Answer("新建了几所学校？", (Passage(paragraph, 7.5, 1, span),), True, 1, 0.9)
    html = "\n".join(render_answer(answer))
    assert html.count("<u>") == 1 and "<b>新建</b><b><u>9所</u></b>、改建19所" in html
    colored = render_text(answer, color=True)
    assert colored.count(ANSWER) == 2  # the answer line, and once in the paragraph
    assert f"   answer: {ANSWER}9所" in colored


def test_a_long_paragraph_marks_the_answer_in_the_part_that_holds_it() -> None:
    sentence = "这是一句很长的说明文字，用来把段落撑到一条消息放不下。"
    text = sentence * 200 + "最后共建成12所学校。"
    paragraph = Paragraph("news", 9, "特教学校", text)
    span = (text.index("12所"), text.index("12所") + 3)
    answer = Answer("共建成几所学校？", (Passage(paragraph, 7.5, 1, span),), True, 1, 0.9)
    parts = render_answer(answer)
    assert len(parts) > 1
    assert [p.count("<u>12所</u>") for p in parts].count(1) == 1
