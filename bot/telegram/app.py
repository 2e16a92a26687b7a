"""Build and run the bot's Application: flood limits and retries, long polling or a webhook."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from telegram import Bot, BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, Application, Defaults

from bot.telegram.handlers import QABot
from bot.telegram.settings import API_URL_EXAMPLE, ENV_TOKEN, BotSettings, redact_token
from retrieval.engine import Engine
from retrieval.errors import QabotError

logger = logging.getLogger(__name__)

RETRIES = 5
BOOTSTRAP_RETRIES = 3
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
COMMANDS = [
    BotCommand("start", "开始，看看示例问题"),
    BotCommand("help", "怎么提问，资料说明"),
    BotCommand("p", "/p N：第 N 段及上下文"),
    BotCommand("ask", "/ask 问题：在群组里提问"),
]
DEFAULT_API_URL = "https://api.telegram.org/bot"
# Durations as datetime.timedelta, the API of python-telegram-bot 23 (see build_application).
PTB_TIMEDELTA = "PTB_TIMEDELTA"

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]


class RetryingRateLimiter(AIORateLimiter):
    """Telegram's flood limits and RetryAfter retries (AIORateLimiter), plus network retries.

    A 502 or a refused connection means the Bot API did not act on the request, so sending it
    again cannot duplicate a message; a timed-out request may have been acted on, so it is not.
    """

    def __init__(self, retries: int = RETRIES) -> None:
        super().__init__(max_retries=retries)
        self.network_retries = retries

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        for attempt in range(self.network_retries + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except (BadRequest, TimedOut):
                raise
            except NetworkError as exc:
                if attempt == self.network_retries:
                    raise
                delay = min(0.25 * 2**attempt, 5.0)
                logger.warning("%s failed (%s); retrying in %.2f s", endpoint, exc, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")


async def _register_commands(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await app.bot.set_my_commands(COMMANDS)
    logger.info("@%s is ready", app.bot.username)


def build_application(
    settings: BotSettings, engine: Engine
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Build the Application: the handlers, flood limits and retries, HTML by default."""
    # python-telegram-bot 22.2+ gives durations (RetryAfter.retry_after, ...) as timedelta
    # when asked to, and warns on every 429 otherwise; version 23 will only do that.
    os.environ.setdefault(PTB_TIMEDELTA, "true")
    qabot = QABot(settings, engine)
    builder = (
        Application.builder()
        .token(settings.token)
        .rate_limiter(RetryingRateLimiter())
        .concurrent_updates(True)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .post_init(_register_commands)
        .post_shutdown(qabot.close)
    )
    if settings.api_url:
        builder = builder.base_url(settings.api_url)
        if settings.file_url:
            builder = builder.base_file_url(settings.file_url)
    app = builder.build()
    qabot.install(app)
    return app


def run(
    app: Application[Any, Any, Any, Any, Any, Any],
    settings: BotSettings,
    handle_signals: bool = True,
) -> None:
    """Run until stopped: a webhook server if a webhook URL is set, else long polling."""
    signals: dict[str, Any] = {} if handle_signals else {"stop_signals": None}
    if settings.webhook_url:
        app.run_webhook(
            listen=settings.listen,
            port=settings.port,
            url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
            bootstrap_retries=BOOTSTRAP_RETRIES,
            **signals,
        )
    else:
        app.run_polling(
            timeout=settings.poll_timeout,
            allowed_updates=ALLOWED_UPDATES,
            bootstrap_retries=BOOTSTRAP_RETRIES,
            **signals,
        )


async def check_token(settings: BotSettings) -> str:
    """Ask the Bot API whose token this is; return the bot's username.

    Raises:
        QabotError: the token is rejected, or the Bot API cannot be reached.
    """
    where = settings.api_url or DEFAULT_API_URL
    try:
        async with Bot(settings.token, base_url=where) as bot:
            return bot.username
    except InvalidToken as exc:
        # python-telegram-bot says InvalidToken for 401 and for 404 alike (the server's words
        # are in the error it came from); Telegram answers 404 to a malformed token, but
        # another server at the URL answers 404 to any path.
        said = str(exc.__cause__ or exc)
        if settings.api_url and "not found" in said.lower():
            problem = (
                f"the server at {where} answered 404 Not Found: it is probably not a Bot API "
                f"URL (e.g. {API_URL_EXAMPLE}), or {ENV_TOKEN} is malformed"
            )
        else:
            problem = f"the Bot API rejected {ENV_TOKEN}; copy the token again from @BotFather"
    except TelegramError as exc:
        problem = f"cannot reach the Bot API at {where}: {exc}"
    # What python-telegram-bot says may quote the URL it called, token and all.
    raise QabotError(redact_token(problem, settings.token))
