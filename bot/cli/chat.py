"""`qabot chat`: load once, then answer each line typed, with :more and :p commands."""

from __future__ import annotations

import argparse
from typing import TextIO

from bot.options import engine_from_args
from bot.render import render_context, render_text
from bot.wording import cli_message
from retrieval import __version__
from retrieval.errors import QabotError

CHAT_HELP = (
    "Type a question and press Enter.  :more  next results   :p N  paragraph N in context   "
    ":p DOC N  in document DOC   :help  this text   :quit  leave (or Ctrl-D)"
)


def cmd_chat(args: argparse.Namespace, out: TextIO) -> int:
    try:
        import readline  # noqa: F401  (gives input() line editing and history with arrow keys)
    except ImportError:
        pass
    engine = engine_from_args(args)
    searcher = engine.searcher
    several = len(searcher.index.documents) > 1
    color = out.isatty()
    out.write(f"qabot {__version__}: {searcher.index.manifest.count} paragraphs. {CHAT_HELP}\n")
    last_question: str | None = None
    shown = 0
    while True:
        try:
            line = input("? ").strip()
        except EOFError:
            out.write("\n")
            return 0
        if not line:
            continue
        try:
            if line in (":quit", ":q", ":exit"):
                return 0
            if line in (":help", ":h"):
                out.write(CHAT_HELP + "\n")
            elif line == ":more":
                if last_question is None:
                    out.write("Ask a question first; :more shows its next results.\n")
                    continue
                answer = searcher.search(last_question, k=args.k, offset=shown)
                shown += len(answer.passages)
                if not answer.passages:
                    out.write("No more results for this question.\n")
                else:
                    out.write(render_text(answer, color, several))
            elif line.startswith(":p"):
                doc, number = searcher.paragraph_ref(line[2:].split())
                out.write(render_context(searcher.neighbours(doc, number), number, several))
            elif line.startswith(":"):
                out.write(f"unknown command {line.split()[0]}; {CHAT_HELP}\n")
            else:
                answer = searcher.search(line, k=args.k)
                last_question, shown = answer.query, len(answer.passages)
                out.write(render_text(answer, color, several))
        except QabotError as exc:
            out.write(f"error: {cli_message(exc)}\n")
        out.flush()
