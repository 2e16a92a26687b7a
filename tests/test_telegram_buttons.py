"""Inline keyboards and callback data (within 64 bytes, decoded back), and remembered presses."""

from __future__ import annotations

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.buttons import (
    CALLBACK_LIMIT,
    Press,
    answer_keyboard,
    ask_data,
    context_data,
    context_keyboard,
    doc_key,
    examples_keyboard,
    more_data,
    parse_press,
    short_names,
    text_hash,
    vote_data,
    without_more,
)
from retrieval.ingest import Paragraph
from retrieval.search import Answer, Passage

LONG_DOC = "a-very-long-document-name-that-would-not-fit-in-callback-data-at-all"


TEXT = "停水。"


def answer_of(
    numbers: list[int], total: int = 50, query: str = "青年路停水", docs: tuple[str, ...] = ()
) -> Answer:
    passages = tuple(
        Passage(Paragraph(docs[rank - 1] if docs else LONG_DOC, n, "通知", TEXT), 5.0, rank)
        for rank, n in enumerate(numbers, start=1)
    )
    return Answer(query, passages, True, total)


def data_of(markup: InlineKeyboardMarkup | None) -> list[list[str]]:
    assert markup is not None
    return [[str(b.callback_data) for b in row] for row in markup.inline_keyboard]


@pytest.mark.parametrize(
    ("data", "press"),
    [
        (more_data(3, "青年路停水"), Press("m", question="青年路停水", offset=3)),
        (more_data(6, "长" * 30), Press("m", question="", offset=6)),
        (more_data(3, "a|b"), Press("m", question="a|b", offset=3)),
        (ask_data("青年路停水"), Press("q", question="青年路停水")),
        (context_data(LONG_DOC, 12), Press("c", doc_key=doc_key(LONG_DOC), number=12)),
        (context_data(LONG_DOC, 13, move=True), Press("n", doc_key=doc_key(LONG_DOC), number=13)),
        (vote_data(LONG_DOC, 7, -1), Press("v", doc_key=doc_key(LONG_DOC), number=7, vote=-1)),
        (vote_data(LONG_DOC, 7, +1), Press("v", doc_key=doc_key(LONG_DOC), number=7, vote=1)),
        # With a hash of the paragraph's text, checked when pressed; the older data, without
        # it, is read as before.
        (
            context_data(LONG_DOC, 12, text=TEXT),
            Press("c", doc_key=doc_key(LONG_DOC), number=12, text_hash=text_hash(TEXT)),
        ),
        (
            vote_data(LONG_DOC, 7, -1, TEXT),
            Press("v", doc_key=doc_key(LONG_DOC), number=7, vote=-1, text_hash=text_hash(TEXT)),
        ),
    ],
)
def test_callback_data_fits_and_decodes(data: str | None, press: Press) -> None:
    assert data is not None and len(data.encode("utf-8")) <= CALLBACK_LIMIT
    assert parse_press(data) == press


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "x|1",
        "m|abc|q",
        "c|key",
        "v|+2|k|1",
        "c|k|1|2",
        "q|",
        "c|k|1|0123456789",
        "c|k|1|ABCDEF01",
        "v|+1|k|1|abcdef01|2",
    ],
)
def test_callback_data_from_elsewhere_is_ignored(data: str | None) -> None:
    assert parse_press(data) is None


def opens(doc: str, *numbers: int) -> list[str]:
    return [context_data(doc, n, text=TEXT) for n in numbers]


def test_an_answer_keyboard_opens_each_passage_and_pages_on() -> None:
    assert data_of(answer_keyboard(answer_of([17, 16, 21]))) == [
        opens(LONG_DOC, 17, 16, 21),
        ["m|3|青年路停水"],
    ]
    last_page = Answer("停水", answer_of([5, 6]).passages, True, 2)
    assert data_of(answer_keyboard(last_page)) == [opens(LONG_DOC, 5, 6)]
    assert answer_keyboard(Answer("停水", (), True, 0)) is None


def test_votes_add_thumbs_to_each_passage() -> None:
    rows = data_of(answer_keyboard(answer_of([17, 16]), feedback=True))
    assert rows[0] == [
        context_data(LONG_DOC, 17, text=TEXT),
        vote_data(LONG_DOC, 17, 1, TEXT),
        vote_data(LONG_DOC, 17, -1, TEXT),
    ]
    assert len(rows) == 3 and rows[2] == ["m|2|青年路停水"]


def test_the_longest_callback_data_fits() -> None:
    # The longest document name, paragraph number and text a button can carry.
    doc, number, text = "文" * 500, 999_999, "长" * 1500
    longest = [
        vote_data(doc, number, -1, text),
        context_data(doc, number, text=text),
        context_data(doc, number, move=True),
    ]
    assert max(len(d.encode("utf-8")) for d in longest) == 29 <= CALLBACK_LIMIT
    assert parse_press(longest[0]) == Press(
        "v", doc_key=doc_key(doc), number=number, vote=-1, text_hash=text_hash(text)
    )


def labels_of(markup: InlineKeyboardMarkup | None) -> list[list[str]]:
    assert markup is not None
    return [[b.text for b in row] for row in markup.inline_keyboard]


def test_buttons_name_the_document_when_an_answer_cites_several() -> None:
    docs = ("shanxi-news-2023-08-30", "shanxi-news-2023-08-31", "notices", "notices")
    labels = labels_of(answer_keyboard(answer_of([3, 3, 1, 2], docs=docs)))
    assert labels[:2] == [
        ["📖 shanxi-news-2023-08-30 §3", "📖 shanxi-news-2023-08-31 §3"],
        ["📖 notices §1", "📖 notices §2"],
    ]
    # One document: the number says it all.
    assert labels_of(answer_keyboard(answer_of([3, 1])))[0] == ["📖 §3", "📖 §1"]


def test_short_names_tell_documents_apart() -> None:
    assert short_names(["shanxi-taiyuan-news", "notices-2023", "notices-2024"]) == {
        "shanxi-taiyuan-news": "shanxi-taiyu…",
        "notices-2023": "notices-2023",
        "notices-2024": "notices-2024",
    }
    assert short_names(["晋中日报 2023年8月", "太原晚报"]) == {
        "晋中日报 2023年8月": "晋中日报 2…",
        "太原晚报": "太原晚报",
    }


def test_a_used_more_button_goes_and_the_rest_stays() -> None:
    keyboard = answer_keyboard(answer_of([17, 16, 21]))
    assert data_of(without_more(keyboard)) == data_of(keyboard)[:1]
    only_more = InlineKeyboardMarkup([[InlineKeyboardButton("更多", callback_data="m|3|q")]])
    assert without_more(only_more) is None and without_more(None) is None


def test_context_keyboard_steps_within_the_document() -> None:
    key = doc_key("d")
    assert data_of(context_keyboard("d", 5, True, True)) == [[f"n|{key}|4", f"n|{key}|6"]]
    assert data_of(context_keyboard("d", 1, False, True)) == [[f"n|{key}|2"]]
    assert context_keyboard("d", 1, False, False) is None


def test_examples_too_long_for_a_button_are_left_out() -> None:
    rows = data_of(examples_keyboard(("青年路停水？", "长" * 30, "a", "b", "c")))
    assert rows == [["q|青年路停水？"], ["q|a"], ["q|b"]]
    assert examples_keyboard(()) is None
