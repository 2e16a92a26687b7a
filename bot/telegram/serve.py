"""The `qabot bot` command: settings, token check, engine, then long polling or a webhook."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TextIO

from bot.options import settings_from_args
from bot.telegram.settings import BotSettings, load_bot_settings, redact_token
from retrieval.engine import Engine
from retrieval.errors import QabotError

logger = logging.getLogger(__name__)

WARM_UP = "热身 warm-up"


class RedactToken(logging.Filter):
    """Replace the bot token wherever it would appear in a log line (URLs, tracebacks)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_token(message, self.token)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_token(record.exc_text, self.token)
        return True


def hide_token(token: str) -> None:
    """Keep the token out of the logs: httpx logs request URLs, which contain it."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactToken(token))


def _describe(settings: BotSettings, username: str, engine: Engine) -> str:
    manifest = engine.searcher.index.manifest
    how = f"webhook {settings.webhook_url}" if settings.webhook_url else "long polling"
    return f"qabot bot @{username}: {manifest.count} paragraphs, {how}; Ctrl-C stops it."


def cmd_bot(args: argparse.Namespace, out: TextIO) -> int:
    """Run the Telegram bot until it is stopped (the token comes from TELEGRAM_BOT_TOKEN)."""
    engine_settings = settings_from_args(args)
    settings = load_bot_settings(
        engine_settings,
        api_url=args.api_url,
        webhook_url=args.webhook_url,
        listen=args.listen,
        port=args.port,
        k=args.k,
    )
    hide_token(settings.token)
    # Imported here: the other commands have no use for python-telegram-bot.
    from telegram.error import TelegramError

    from bot.telegram.app import build_application, check_token, run

    # A rejected token should fail in a second, before the model spends seconds loading.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    username = loop.run_until_complete(check_token(settings))
    engine = Engine(engine_settings)
    engine.searcher.search(WARM_UP)  # load the index and the model now, not on a first question
    print(_describe(settings, username, engine), file=sys.stderr, flush=True)
    try:
        run(build_application(settings, engine), settings)
    except TelegramError as exc:
        # This line is printed, not logged, so it is scrubbed here. With --debug the CLI lets
        # the error go, and Python prints its traceback with any chained cause as they are: the
        # cause goes to the log (scrubbed) instead.
        logger.debug("the bot stopped", exc_info=True)
        raise QabotError(redact_token(f"the bot stopped: {exc}", settings.token)) from None
    return 0
