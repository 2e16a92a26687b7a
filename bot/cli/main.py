"""The `qabot` command: parse the arguments, run the command, word its errors (exit 1/2/130)."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from bot.cli.output import READER_LEFT, OutputError, discard_output, standard_output
from bot.cli.parser import build_parser
from retrieval.errors import QabotError, UsageError

# Each command's function, imported when it runs: the engine imports numpy, rjieba and faiss
# (~0.3 s), the bot python-telegram-bot, and neither is needed for --help or a usage error.
COMMANDS: dict[str, str] = {
    "ask": "bot.cli.commands:cmd_ask",
    "chat": "bot.cli.chat:cmd_chat",
    "index": "bot.cli.commands:cmd_index",
    "show": "bot.cli.commands:cmd_show",
    "bot": "bot.telegram.serve:cmd_bot",
    "eval": "bot.cli.commands:cmd_eval",
}

Command = Callable[[argparse.Namespace, TextIO], int]
# Commands that write nothing to standard output, and so run with it closed.
SILENT_COMMANDS = frozenset({"bot"})


def command(name: str) -> Command:
    """Import and return the function that runs a command."""
    module, function = COMMANDS[name].split(":")
    run: Command = getattr(importlib.import_module(module), function)
    return run


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
        run = command(args.command)
        if args.command in SILENT_COMMANDS:
            return run(args, sys.stdout)
        out = standard_output()
        status = run(args, out)
        out.flush()  # what a full disk refuses is refused here, not as the interpreter exits
        return status
    except BrokenPipeError:
        # The reader left (`qabot chat | head -1`): the output ends there, quietly, as `cat`'s.
        discard_output()
        return READER_LEFT
    except UsageError as exc:
        print(f"error: {_worded(exc)}", file=sys.stderr)
        return 2
    except OutputError as exc:
        discard_output()
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except QabotError as exc:
        if args.debug:
            raise
        print(f"error: {_worded(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _worded(exc: QabotError) -> str:
    """Return the CLI's one line for an error (bot.wording imports the search package)."""
    from bot.wording import cli_message

    return cli_message(exc)


if __name__ == "__main__":
    sys.exit(main())
