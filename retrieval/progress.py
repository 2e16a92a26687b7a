"""How the engine reports what it is doing: a line per stage, and a bar while a step runs.

Lines (`Say`) go wherever the front end wants them (the terminal's stderr, a log, nowhere);
bars are drawn only where someone watches: on a terminal, never into a log file, where
their carriage returns would be noise.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

# Takes one line of progress ("Embedding 50 of 50 paragraphs..."); front ends choose where
# it goes (the terminal's stderr, a log, nowhere).
Say = Callable[[str], None]
# Takes how many more items a step has done.
Advance = Callable[[int], None]


def say_on_stderr(message: str) -> None:
    """Print a progress line on stderr at once."""
    print(message, file=sys.stderr, flush=True)


def say_nothing(message: str) -> None:
    """Drop a progress line."""


def bars_wanted(say: Say) -> bool:
    """Tell whether to draw progress bars: lines go to stderr, and stderr is a terminal."""
    return say is say_on_stderr and sys.stderr.isatty()


@contextlib.contextmanager
def progress_bar(total: int, label: str, shown: bool) -> Iterator[Advance]:
    """Draw a bar on stderr for a step of `total` items while it runs, if `shown`.

    Yields the function to call as items are done; without a bar it does nothing.
    """
    if not shown or total <= 0:
        yield _ignore
        return
    from tqdm import tqdm  # imported when drawn: a log-only run never needs it

    with tqdm(total=total, desc=label, unit="¶", file=sys.stderr, dynamic_ncols=True) as bar:
        yield bar.update


def _ignore(count: int) -> None:
    """Count nothing (no bar is drawn)."""
