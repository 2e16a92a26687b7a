"""Wrap terminal text to the window's width, CJK-aware, with a hanging indent."""

from __future__ import annotations

import os
import re
import unicodedata
from typing import TextIO

# Colour and bold codes take no room on the screen.
_ESCAPE = re.compile(r"\033\[[0-9;]*m")
# A line's hanging indent: its leading spaces, then the width of a list number ("12. ") or of
# a command and its column (":p N        paragraph N..." in the chat's help).
_INDENT = re.compile(r"( *)(\d+\. |:\S+(?: [A-Z]+)? {2,})?")
# Punctuation that never starts a line, and punctuation that never ends one (kinsoku).
_NO_START = set("，。、；：？！）》」』】”’,.;:?!)]}%…—·")
_NO_END = set("（《「『【“‘([{")
NARROWEST = 20


def cell_width(text: str) -> int:
    """Return the columns text takes on a terminal: a CJK character takes two, a code none."""
    width = 0
    for ch in _ESCAPE.sub("", text):
        if unicodedata.combining(ch) or ch in "\u200b\u200d\ufe0f":
            continue
        width += 2 if _wide(ch) else 1
    return width


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _pieces(text: str) -> list[str]:
    """Split text into the pieces a line may break between: words, CJK characters, spaces.

    Closing punctuation sticks to what comes before it, opening punctuation and escape codes
    to what follows.
    """
    # Each piece is gathered as a list of tokens and joined once at the end: adding to a string
    # a character at a time is quadratic in a word of 100,000 characters.
    pieces: list[list[str]] = []
    glue = ""  # escape codes and opening punctuation waiting for the next character
    in_word = False  # the last piece ends in a letter of a Latin word or number
    for token in re.findall(r"\033\[[0-9;]*m|.", text, flags=re.S):
        if token.startswith("\033") or token in _NO_END:
            glue += token
        elif token == " " and _short_aside(pieces):
            pieces[-1].append(token)  # "(score 6.587)" stays on one line
        elif in_word and not glue and not token.isspace() and not _wide(token):
            pieces[-1].append(token)  # a Latin word or a number goes on, with its "." or ","
        elif token in _NO_START and pieces and not glue:
            pieces[-1].append(token)
            in_word = False
        else:
            pieces.append([glue, token])
            glue = ""
            in_word = not token.isspace() and not _wide(token)
    if glue:
        pieces.append([glue])
    return ["".join(piece) for piece in pieces]


def _short_aside(pieces: list[list[str]]) -> bool:
    """Tell whether the last piece opens a short Latin aside in brackets: "(score"."""
    if not pieces or len(pieces[-1]) > 24:  # tokens: at most 12 characters and their codes
        return False
    last = _ESCAPE.sub("", "".join(pieces[-1]))
    return last.startswith("(") and ")" not in last and len(last) < 12 and last.isascii()


def wrap_line(line: str, width: int) -> list[str]:
    """Wrap one line to `width` columns, later lines indented like its text.

    The indent is the line's leading spaces, and after a number ("1. §16 ...") or a command
    (":more   the next results") the column its text starts in, as in the README's examples.
    """
    if cell_width(line) <= width:
        return [line]
    plain = _ESCAPE.sub("", line)
    found = _INDENT.match(plain)
    indent = " " * (found.end() if found else 0)
    if len(indent) > width // 2:
        indent = ""
    lines: list[str] = []
    current, used = "", 0
    for piece in _pieces(line):
        size = cell_width(piece)
        if used + size > width and current.strip():
            lines.append(current.rstrip())
            current, used = indent, len(indent)
        if piece.isspace() and lines and not current.strip():
            continue  # no line starts with the space it broke at
        current += piece
        used += size
    if current.strip():
        lines.append(current.rstrip())
    return lines


def wrap_text(text: str, width: int) -> str:
    """Wrap every line of text to `width` columns (see wrap_line)."""
    width = max(width, NARROWEST)
    return "\n".join(
        wrapped for line in text.split("\n") for wrapped in wrap_line(line, width) or [""]
    )


def terminal_width(out: TextIO) -> int | None:
    """Return the width of the terminal `out` writes to, or None when it is not one."""
    try:
        if not out.isatty():
            return None
        return os.get_terminal_size(out.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return None


def wrap_for(out: TextIO, text: str) -> str:
    """Return text wrapped for the terminal `out` writes to; unchanged for a pipe or file."""
    width = terminal_width(out)
    return text if width is None else wrap_text(text, width - 1)
