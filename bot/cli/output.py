"""A command's standard output: a write that fails is one error line, a reader that left is not."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO, cast

# As a shell reports a process that SIGPIPE ended (`yes | head -1`): 128 + 13.
READER_LEFT = 141


def wants_color(out: TextIO) -> bool:
    """Tell whether to write bold and underline: on a terminal, unless NO_COLOR is set
    (no-color.org) or the terminal is `dumb` (Emacs shells, some CI logs)."""
    return out.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


class OutputError(Exception):
    """Standard output could not be written: closed, a full disk, an I/O error.

    Not a QabotError: `qabot chat` goes on after those, and cannot after this.
    """


class Output:
    """Standard output as commands write it: a failed write raises OutputError.

    A reader that left (`qabot chat | head -1`) still raises BrokenPipeError, which main()
    takes as the end of the output rather than an error.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        with _worded():
            return self.stream.write(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        with _worded():
            self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


@contextmanager
def _worded() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: a closed file
        raise OutputError(f"cannot write the output: {_reason(exc)}") from exc


def _reason(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


def standard_output() -> TextIO:
    """Return sys.stdout wrapped in Output, or raise OutputError when there is none (`>&-`)."""
    if sys.stdout is None:
        raise OutputError(
            "cannot write the output: standard output is closed; "
            "give it a file or a pipe (qabot ... > answers.txt)"
        )
    return cast(TextIO, Output(sys.stdout))  # it has every method a command uses


def discard_output() -> None:
    """Point standard output at /dev/null, so that the interpreter's last flush of what could
    not be written does not fail again (with "Exception ignored" and exit status 120)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file behind it (tests): nothing to do
        pass
