"""The `qabot` command: parse the arguments, run the command, word its errors (exit 1/2/130)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from bot.cli.chat import cmd_chat
from bot.cli.commands import cmd_ask, cmd_eval, cmd_index, cmd_show
from bot.cli.parser import build_parser
from bot.telegram.serve import cmd_bot
from bot.wording import cli_message
from retrieval.errors import QabotError, UsageError

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
        print(f"error: {cli_message(exc)}", file=sys.stderr)
        return 2
    except QabotError as exc:
        if args.debug:
            raise
        print(f"error: {cli_message(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
