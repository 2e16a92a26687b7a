"""Inline keyboards and their callback data, which carries all its state (no memory needed)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from retrieval.search import Answer

# Telegram's limit on callback data, in bytes of UTF-8.
CALLBACK_LIMIT = 64
MORE, CONTEXT, MOVE, ASK, VOTE = "m", "c", "n", "q", "v"
MORE_LABEL = "更多结果 ▸"
# Hex digits of a paragraph's text hash in a button's data: enough to tell that a paragraph
# changed (a /reindex renumbers paragraphs), short enough for the longest data,
# `v|+1|<8 hex>|<number>|<8 hex>`: 29 bytes for paragraph 999999.
TEXT_HASH_HEX = 8
# Characters of a document's name on a 📖 button, at least, when an answer cites several.
DOC_LABEL_CHARS = 6


@dataclass(frozen=True)
class Press:
    """What a button asks for, decoded from its callback data."""

    action: str
    question: str = ""
    offset: int = 0
    doc_key: str = ""
    number: int = 0
    vote: int = 0
    text_hash: str = ""  # of the paragraph the button was made for; "" on older buttons


def _sha1_hex(text: str, digits: int) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:digits]


def doc_key(doc: str) -> str:
    """Return a short stable key for a document id (ids can be longer than callback data)."""
    return _sha1_hex(doc, 8)


def text_hash(text: str) -> str:
    """Return a short hash of a paragraph's text, to tell whether it is still the same."""
    return _sha1_hex(text, TEXT_HASH_HEX)


def _fits(data: str) -> bool:
    return len(data.encode("utf-8")) <= CALLBACK_LIMIT


def more_data(offset: int, question: str) -> str:
    """Encode "the next results from offset"; the question goes along when it fits.

    When it does not, the handler reads it back from the answer message (its first line) or
    from the question that message replies to.
    """
    data = f"{MORE}|{offset}|{question}"
    return data if _fits(data) else f"{MORE}|{offset}|"


def ask_data(question: str) -> str | None:
    """Encode "ask this question", or None if it is too long for a button."""
    data = f"{ASK}|{question}"
    return data if _fits(data) else None


def context_data(doc: str, number: int, move: bool = False, text: str | None = None) -> str:
    """Encode "show paragraph number of doc in context" (move: in place of this message).

    With the paragraph's text, the press is checked against the paragraph of that number then.
    """
    data = f"{MOVE if move else CONTEXT}|{doc_key(doc)}|{number}"
    return data if text is None else f"{data}|{text_hash(text)}"


def vote_data(doc: str, number: int, vote: int, text: str | None = None) -> str:
    """Encode a 👍 (+1) or 👎 (-1) for a paragraph as an answer to the message's question
    (checked, with its text, against the paragraph of that number then)."""
    data = f"{VOTE}|{vote:+d}|{doc_key(doc)}|{number}"
    return data if text is None else f"{data}|{text_hash(text)}"


def _count(text: str, least: int) -> int:
    """Read a number this bot wrote (plain digits, at least `least`), or raise ValueError."""
    if not (text.isascii() and text.isdigit()) or int(text) < least:
        raise ValueError(f"not a count from {least}: {text!r}")
    return int(text)


def _text_hash(given: list[str]) -> str:
    """Read the text hash of a button's data ("" for older buttons without one)."""
    if not given:
        return ""
    (found,) = given
    if len(found) != TEXT_HASH_HEX or not all(c in "0123456789abcdef" for c in found):
        raise ValueError(f"not a text hash: {found!r}")
    return found


def parse_press(data: str | None) -> Press | None:
    """Decode callback data; None for anything this bot did not make (`m|-5|…` included)."""
    if not data:
        return None
    action, _, rest = data.partition("|")
    try:
        if action == MORE:
            offset, _, question = rest.partition("|")
            return Press(MORE, question=question, offset=_count(offset, 0))
        if action == ASK and rest:
            return Press(ASK, question=rest)
        if action in (CONTEXT, MOVE):
            key, number, *checked = rest.split("|")
            return Press(
                action, doc_key=key, number=_count(number, 1), text_hash=_text_hash(checked)
            )
        if action == VOTE:
            vote, key, number, *checked = rest.split("|")
            if vote in ("+1", "-1"):
                return Press(
                    VOTE,
                    doc_key=key,
                    number=_count(number, 1),
                    vote=int(vote),
                    text_hash=_text_hash(checked),
                )
    except ValueError:
        pass
    return None


def short_names(docs: Iterable[str], least: int = DOC_LABEL_CHARS) -> dict[str, str]:
    """Name each document as briefly as tells them apart: its first characters (at least
    `least`), with … where cut."""
    unique = sorted(set(docs))
    for size in range(least, max((len(d) for d in unique), default=0) + 1):
        names = {d: d if len(d) <= size else d[:size] + "…" for d in unique}
        if len(set(names.values())) == len(names):
            return names
    return {d: d for d in unique}


def answer_keyboard(answer: Answer, feedback: bool = False) -> InlineKeyboardMarkup | None:
    """Buttons under an answer: each passage in context (and votes), then the next results.

    When the passages come from several documents, each 📖 button names its document.
    """
    rows: list[list[InlineKeyboardButton]] = []
    names = short_names(p.paragraph.doc for p in answer.passages)
    opens = [
        InlineKeyboardButton(
            f"📖 {names[p.doc]} §{p.number}" if len(names) > 1 else f"📖 §{p.number}",
            callback_data=context_data(p.doc, p.number, text=p.text),
        )
        for p in (passage.paragraph for passage in answer.passages)
    ]
    if feedback:
        for passage, button in zip(answer.passages, opens, strict=True):
            p = passage.paragraph
            doc, number, text = p.doc, p.number, p.text
            rows.append(
                [
                    button,
                    InlineKeyboardButton("👍", callback_data=vote_data(doc, number, +1, text)),
                    InlineKeyboardButton("👎", callback_data=vote_data(doc, number, -1, text)),
                ]
            )
    else:
        # Buttons that name their document are wider: fewer to a row, or Telegram cuts them.
        size = 2 if len(names) > 1 else 4
        rows += [opens[i : i + size] for i in range(0, len(opens), size)]
    shown = answer.passages[-1].rank if answer.passages else 0
    if answer.passages and shown < answer.total:
        rows.append(
            [InlineKeyboardButton(MORE_LABEL, callback_data=more_data(shown, answer.query))]
        )
    return InlineKeyboardMarkup(rows) if rows else None


def without_more(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """Return the keyboard without its "more results" button (once it has been used)."""
    if markup is None:
        return None
    rows = [
        [b for b in row if not (isinstance(b.callback_data, str) and b.callback_data[:2] == "m|")]
        for row in markup.inline_keyboard
    ]
    kept = [row for row in rows if row]
    return InlineKeyboardMarkup(kept) if kept else None


def context_keyboard(
    doc: str, focus: int, has_previous: bool, has_next: bool
) -> InlineKeyboardMarkup | None:
    """Buttons under a paragraph in context: step to the previous or next paragraph."""
    row = []
    if has_previous:
        row.append(
            InlineKeyboardButton("◂ 上一段", callback_data=context_data(doc, focus - 1, True))
        )
    if has_next:
        row.append(
            InlineKeyboardButton("下一段 ▸", callback_data=context_data(doc, focus + 1, True))
        )
    return InlineKeyboardMarkup([row]) if row else None


def examples_keyboard(examples: tuple[str, ...]) -> InlineKeyboardMarkup | None:
    """One button per example question (those short enough for a button), up to three."""
    rows = [
        [InlineKeyboardButton(q, callback_data=data)]
        for q in examples
        if (data := ask_data(q)) is not None
    ][:3]
    return InlineKeyboardMarkup(rows) if rows else None
