"""Tests for wrapping terminal text: CJK characters are two columns, indents hang."""

from __future__ import annotations

import io

import pytest

from bot.cli.wrap import cell_width, wrap_for, wrap_line, wrap_text

PASSAGE = (
    "   “免费送戏下乡进村”惠民工程自2017年启动以来,送戏总数已突破10万场。今年,我省决定全年免费"
    "送戏1万场。"
)


@pytest.mark.parametrize(
    ("text", "width"),
    [("abc", 3), ("送戏", 4), ("“送”", 4), ("\033[1m送戏\033[0m", 4), ("é", 1), ("", 0)],
)
def test_cell_width(text: str, width: int) -> None:
    assert cell_width(text) == width


def test_a_passage_wraps_under_its_text_and_keeps_every_character() -> None:
    lines = wrap_line(PASSAGE, 30)
    assert len(lines) > 2
    assert all(cell_width(line) <= 30 for line in lines)
    assert all(line.startswith("   ") and not line.startswith("    ") for line in lines)
    assert "".join(line.strip() for line in lines) == PASSAGE.strip()
    # Numbers and Latin words are not cut, and no line starts with closing punctuation.
    assert not any(line.strip()[0] in "，。,、”" for line in lines)
    assert all("2017" in line or "201" not in line for line in lines)


def test_a_numbered_head_and_a_command_hang_under_their_text() -> None:
    head = "12. §16 · 我省落实今年12件民生实事成效显著 › 免费送戏下乡进村超万场"
    assert wrap_line(head, 30)[1].startswith("    ") and wrap_line(head, 30)[1][4] != " "
    entry = "  :p N        paragraph N in context (§N works too; :p DOC N in document DOC)"
    lines = wrap_line(entry, 40)
    assert lines[0].startswith("  :p N        paragraph") and lines[1].startswith(" " * 14)
    assert lines[1][14] != " "


def test_latin_text_breaks_between_words() -> None:
    text = "Type a question and press Enter. Ctrl-C clears the line, Ctrl-D leaves."
    assert wrap_text(text, 30).split("\n") == [
        "Type a question and press",
        "Enter. Ctrl-C clears the line,",
        "Ctrl-D leaves.",
    ]


def test_a_score_stays_whole() -> None:
    head = "1. §16 · 我省落实今年12件民生实事成效显著 › 免费送戏下乡进村超万场  (score 6.587)"
    assert wrap_line(head, 79) == [
        "1. §16 · 我省落实今年12件民生实事成效显著 › 免费送戏下乡进村超万场",
        "   (score 6.587)",
    ]


def test_bold_codes_take_no_room() -> None:
    text = "\033[1m青年\033[0m路明晚\033[1m停水\033[0m，请提前储水。"
    lines = wrap_text(text, 20).split("\n")
    assert [cell_width(line) for line in lines] == [20, 8]


def test_only_a_terminal_is_wrapped() -> None:
    text = "送" * 100
    assert wrap_for(io.StringIO(), text) == text
