"""How the engine reports what it is doing: one `Say` callback type, stderr by default."""

from __future__ import annotations

import sys
from collections.abc import Callable

# Takes one line of progress ("Embedding 50 of 50 paragraphs..."); front ends choose where
# it goes (the terminal's stderr, a log, nowhere).
Say = Callable[[str], None]


def say_on_stderr(message: str) -> None:
    """Print a progress line on stderr at once."""
    print(message, file=sys.stderr, flush=True)


def say_nothing(message: str) -> None:
    """Drop a progress line."""
