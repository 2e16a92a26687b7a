"""`qabot chat`: load once, then answer each line typed, with :more and :p commands."""

from __future__ import annotations

import argparse
import io
import logging
import shlex
import sys
from pathlib import Path
from typing import TextIO

from bot.cli.commands import render_paragraphs
from bot.cli.output import wants_color
from bot.cli.parser import CHAT_QUIT
from bot.cli.wrap import wrap_for
from bot.options import engine_from_args
from bot.render import render_text
from bot.wording import CHAT_REMEDIES, cli_message
from retrieval import __version__
from retrieval.errors import QabotError, UsageError
from retrieval.search import Searcher

logger = logging.getLogger(__name__)

CHAT_HELP = """\
Type a question and press Enter. Ctrl-C clears the line, Ctrl-D leaves.
  :more       the next results of the last question
  :p N        paragraph N in context (§N works too; :p DOC N in document DOC)
  :help       this text
  :quit       leave"""
# A line of only one of these leaves too, as in other shells (no one asks the corpus `quit`).
BARE_QUIT = ("quit", "exit", "退出")
COMMAND_NAMES = ":more, :p [DOC] N, :help and :quit"
HISTORY_LENGTH = 1000


class Chat:
    """One chat session: the searcher, the last question and how far its results were shown."""

    def __init__(self, searcher: Searcher, k: int, out: TextIO) -> None:
        self.searcher = searcher
        self.k = k
        self.out = out
        self.several = len(searcher.index.documents) > 1
        self.color = wants_color(out)
        self.last_question: str | None = None
        self.shown = 0

    def write(self, text: str) -> None:
        """Write a block of output, wrapped for the terminal, followed by a blank line."""
        self.out.write(wrap_for(self.out, text.rstrip("\n")) + "\n\n")
        self.out.flush()

    def complain(self, line: str) -> None:
        """Write an error line to standard error, as every command's; on a terminal a blank line
        follows it, as it does every block."""
        sys.stderr.write(wrap_for(sys.stderr, line) + ("\n\n" if sys.stderr.isatty() else "\n"))
        sys.stderr.flush()

    def answer(self, line: str) -> bool:
        """Answer one line typed; return False when it asks to leave."""
        if line.strip().lower() in BARE_QUIT:
            return False
        if not line.startswith(":"):
            self.ask(line)
            return True
        name, *words = _command_words(line)
        if name == ":p":
            self.show(words)
            return True
        plain = {":more": self.more, ":help": self.help, ":h": self.help}
        if name not in plain and name not in CHAT_QUIT:
            raise UsageError(f"unknown command {name}; the commands are {COMMAND_NAMES}")
        if words:
            how = f"it shows the next {self.k} result(s); qabot chat -k N sets how many"
            raise UsageError(
                f"{name} takes no argument; {how if name == ':more' else 'type it alone'}"
            )
        if name in CHAT_QUIT:
            return False
        plain[name]()
        return True

    def ask(self, question: str) -> None:
        answer = self.searcher.search(question, k=self.k)
        self.last_question, self.shown = answer.query, len(answer.passages)
        self.write(render_text(answer, self.color, self.several))

    def show(self, words: list[str]) -> None:
        self.write(render_paragraphs(self.searcher, words, radius=1))

    def help(self) -> None:
        self.write(CHAT_HELP)

    def more(self) -> None:
        if self.last_question is None:
            self.write("Ask a question first; :more shows its next results.")
            return
        answer = self.searcher.search(self.last_question, k=self.k, offset=self.shown)
        self.shown += len(answer.passages)
        if not answer.passages:
            self.write("No more results for this question.")
        else:
            self.write(render_text(answer, self.color, self.several))


def cmd_chat(args: argparse.Namespace, out: TextIO) -> int:
    # On a pipe (`qabot chat < questions.txt`) the output is the answers only: no banner, no
    # prompts, one block per line read.
    if sys.stdin is None:
        raise UsageError(
            "standard input is closed; type questions on a terminal, or pipe them in "
            "(qabot chat < questions.txt)"
        )
    if isinstance(sys.stdin, io.TextIOWrapper):
        # Bytes that are not UTF-8 reach check_question, which says so, instead of ending
        # the session with a UnicodeDecodeError (the default in a UTF-8 locale).
        sys.stdin.reconfigure(errors="surrogateescape")
    interactive = sys.stdin.isatty()
    engine = engine_from_args(args)
    chat = Chat(engine.searcher, args.k, out)
    history = engine.settings.chat_history if interactive else None
    if history is not None:
        _load_history(history)
        count = engine.searcher.index.manifest.count
        chat.write(f"qabot {__version__}: {count} paragraphs.\n{CHAT_HELP}")
    try:
        return _loop(chat, interactive)
    finally:
        if history is not None:
            _save_history(history)


def _loop(chat: Chat, interactive: bool) -> int:
    """Read and answer lines until :quit or the end of input (Ctrl-D)."""
    while True:
        try:
            line = _read_line(interactive).strip()
        except EOFError:
            if interactive:
                chat.out.write("\n")
            return 0
        except KeyboardInterrupt:
            if not interactive:
                raise
            # As in a shell: Ctrl-C drops the line being typed, and the session goes on.
            chat.out.write("\n")
            continue
        if not line:
            continue
        try:
            if not chat.answer(line):
                return 0
        except QabotError as exc:
            # The session goes on, and ends with exit status 0: a chat is many questions.
            chat.complain(f"error: {cli_message(exc, CHAT_REMEDIES)}")
        except KeyboardInterrupt:
            if not interactive:
                raise
            chat.complain("interrupted")


def _read_line(interactive: bool) -> str:
    """Return the next line typed (after a prompt) or piped in; raise EOFError at the end."""
    if interactive:
        return input("? ")
    # Not input(""): it flushes standard output first, and a failed write is the answers' to
    # report, not the reading's.
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line


def _load_history(path: Path) -> None:
    """Give input() line editing, and the questions of earlier sessions under the arrow keys."""
    try:
        import readline
    except ImportError:  # not on every platform; input() still works without it
        return
    readline.set_history_length(HISTORY_LENGTH)
    try:
        readline.read_history_file(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        logger.debug("cannot read the chat history %s: %s", path, exc)


def _save_history(path: Path) -> None:
    """Keep this session's lines for the next one; a home that cannot be written keeps none."""
    try:
        import readline
    except ImportError:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        readline.write_history_file(path)
    except OSError as exc:
        logger.debug("cannot write the chat history %s: %s", path, exc)


def _command_words(line: str) -> list[str]:
    """Split a command line as a shell would (`:p "read me" 3`), or at spaces if its quotes do
    not pair up."""
    try:
        return shlex.split(line) or [line.strip()]
    except ValueError:
        return line.split()
