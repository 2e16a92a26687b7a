"""`qabot chat`: load once, then answer each line typed, with :more and :p commands."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TextIO

from bot.cli.commands import paragraph_refs
from bot.cli.wrap import wrap_for
from bot.options import engine_from_args
from bot.render import render_context, render_text
from bot.wording import CHAT_REMEDIES, cli_message
from retrieval import __version__
from retrieval.errors import QabotError
from retrieval.search import Searcher

logger = logging.getLogger(__name__)

CHAT_HELP = """\
Type a question and press Enter. Ctrl-C clears the line, Ctrl-D leaves.
  :more       the next results of the last question
  :p N        paragraph N in context (§N works too; :p DOC N in document DOC)
  :help       this text
  :quit       leave"""
HISTORY_LENGTH = 1000


class Chat:
    """One chat session: the searcher, the last question and how far its results were shown."""

    def __init__(self, searcher: Searcher, k: int, out: TextIO) -> None:
        self.searcher = searcher
        self.k = k
        self.out = out
        self.several = len(searcher.index.documents) > 1
        self.color = out.isatty()
        self.last_question: str | None = None
        self.shown = 0

    def write(self, text: str) -> None:
        """Write a block of output, wrapped for the terminal, followed by a blank line."""
        self.out.write(wrap_for(self.out, text.rstrip("\n")) + "\n\n")
        self.out.flush()

    def answer(self, line: str) -> bool:
        """Answer one line typed; return False when it asks to leave."""
        if line in (":quit", ":q", ":exit"):
            return False
        if line in (":help", ":h"):
            self.write(CHAT_HELP)
        elif line == ":more":
            self.more()
        elif line.split()[0] == ":p":
            for words in paragraph_refs(line.split()[1:]):
                doc, number = self.searcher.paragraph_ref(words)
                paragraphs = self.searcher.neighbours(doc, number)
                self.write(render_context(paragraphs, number, self.several))
        elif line.startswith(":"):
            self.write(f"unknown command {line.split()[0]}\n{CHAT_HELP}")
        else:
            answer = self.searcher.search(line, k=self.k)
            self.last_question, self.shown = answer.query, len(answer.passages)
            self.write(render_text(answer, self.color, self.several))
        return True

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
            line = input("? " if interactive else "").strip()
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
            chat.write(f"error: {cli_message(exc, CHAT_REMEDIES)}")
        except KeyboardInterrupt:
            if not interactive:
                raise
            chat.write("interrupted")


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
