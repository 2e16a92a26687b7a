"""Settings of the Telegram bot: CLI flags, then environment variables, then defaults."""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from retrieval.config import BUNDLED_CORPUS, Settings, user_path
from retrieval.errors import QabotError, UsageError

logger = logging.getLogger(__name__)

ENV_TOKEN = "TELEGRAM_BOT_TOKEN"
ENV_API_URL = "TELEGRAM_API_URL"
ENV_ALLOWED_USERS = "QABOT_ALLOWED_USERS"
ENV_ALLOWED_CHATS = "QABOT_ALLOWED_CHATS"
ENV_ADMINS = "QABOT_ADMINS"
ENV_RATE_LIMIT = "QABOT_RATE_LIMIT"
ENV_FEEDBACK_FILE = "QABOT_FEEDBACK_FILE"
ENV_WEBHOOK_SECRET = "QABOT_WEBHOOK_SECRET"
ENV_EXAMPLES = "QABOT_EXAMPLES"

DEFAULT_RATE_LIMIT = 20  # questions per user per minute
# What Telegram accepts as a webhook's secret token (setWebhook refuses anything else).
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
# python-telegram-bot calls BASE_URL + token + "/getMe": a Bot API base URL ends in /bot (or
# says where the token goes: {token}).
API_URL_EXAMPLE = "http://127.0.0.1:8081/bot"
# What stands for the token in every message that could show it.
REDACTED = "<token>"
DEFAULT_LISTEN = "0.0.0.0"
DEFAULT_PORT = 8443
# Questions the bundled corpus answers well, offered as buttons by /start.
BUNDLED_EXAMPLES = (
    "迎泽大街什么时候停水？",
    "免费送戏下乡完成了多少场？",
    "多少残疾儿童得到了康复救助？",
)


@dataclass(frozen=True)
class BotSettings:
    """Everything the bot needs besides the engine; the token is never shown in a repr."""

    token: str = field(repr=False)
    api_url: str | None = None
    webhook_url: str | None = None
    listen: str = DEFAULT_LISTEN
    port: int = DEFAULT_PORT
    webhook_secret: str = field(default="", repr=False)
    allowed_users: frozenset[int] = frozenset()
    allowed_chats: frozenset[int] = frozenset()
    admins: frozenset[int] = frozenset()
    rate_limit: int = DEFAULT_RATE_LIMIT
    k: int = 3
    feedback_file: Path | None = None
    examples: tuple[str, ...] = ()
    poll_timeout: int = 10

    @property
    def file_url(self) -> str | None:
        """Return the file URL that goes with a self-hosted `.../bot` API URL."""
        if self.api_url and self.api_url.endswith("/bot"):
            return self.api_url[: -len("bot")] + "file/bot"
        return None

    def allows(self, user_id: int | None, chat_id: int | None) -> bool:
        """Tell whether this user (or chat) may use the bot; no allowlist means everyone may."""
        if not self.allowed_users and not self.allowed_chats:
            return True
        return (
            user_id in self.allowed_users or user_id in self.admins or chat_id in self.allowed_chats
        )


def redact_token(text: str, token: str) -> str:
    """Return text with the bot token (and its secret half, which a URL may show alone or
    escaped) replaced: for every message that could hold it, logged or printed."""
    if not token:
        return text
    text = text.replace(token, REDACTED)
    secret = token.partition(":")[2]
    return text.replace(secret, REDACTED) if len(secret) >= 8 else text


def _api_url(given: str | None, token: str) -> str | None:
    """Return the Bot API base URL, or raise UsageError if it cannot be one."""
    if not given:
        return None
    parts = urlsplit(given)
    if (
        parts.scheme in ("http", "https")
        and parts.netloc
        and (parts.path.endswith("/bot") or "{token}" in given)
    ):
        return given
    raise UsageError(
        f"{ENV_API_URL} (or --api-url) is {redact_token(given, token)!r}, not a Bot API URL: "
        f"write the server's address with /bot at the end, e.g. {API_URL_EXAMPLE}"
    )


def _webhook_secret(env: Mapping[str, str]) -> str:
    secret = env.get(ENV_WEBHOOK_SECRET, "")
    if not secret:
        # Telegram repeats the secret in a header of every webhook call; a fresh one per start
        # is as good as a fixed one, since the bot registers it again with setWebhook.
        return secrets.token_urlsafe(32)
    if not _WEBHOOK_SECRET.fullmatch(secret):
        # Not shown: it is a secret.
        raise UsageError(
            f"{ENV_WEBHOOK_SECRET} holds characters Telegram does not allow; give 1-256 "
            "letters, digits, _ or -"
        )
    return secret


def _ids(name: str, env: Mapping[str, str]) -> frozenset[int]:
    raw = env.get(name, "")
    ids = set()
    for item in raw.replace(";", ",").replace(" ", ",").split(","):
        if not item:
            continue
        try:
            ids.add(int(item))
        except ValueError:
            raise UsageError(
                f"{name} holds {item!r}; give numeric Telegram ids separated by commas"
            ) from None
    return frozenset(ids)


def _rate_limit(env: Mapping[str, str]) -> int:
    raw = env.get(ENV_RATE_LIMIT, "").strip()
    if not raw:
        return DEFAULT_RATE_LIMIT
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise UsageError(
            f"{ENV_RATE_LIMIT} is {raw!r}; give questions per user per minute (0 = no limit)"
        )
    return value


def _examples(env: Mapping[str, str], engine_settings: Settings) -> tuple[str, ...]:
    """Return the example questions, without those that are no question (said in the log)."""
    # Imported here: the other commands import this module, and have no use for these.
    from bot.telegram.buttons import ask_data
    from bot.telegram.format import question_problem

    given = tuple(q.strip() for q in env.get(ENV_EXAMPLES, "").split("|") if q.strip())
    # Small talk (`你好`) would get a hint when pressed, and as the hint's example it would
    # make no sense: left out. A question too long for a button's data is only in hints.
    questions = tuple(q for q in given if question_problem(q) is None)
    not_questions = [repr(q) for q in given if q not in questions]
    too_long = [repr(q) for q in questions if ask_data(q) is None]
    said = []
    if not_questions:
        said.append(f"left out, not questions: {', '.join(not_questions)}")
    if too_long:
        said.append(f"no /start button, too long for its data: {', '.join(too_long)}")
    if said:
        logger.warning("%s: %s", ENV_EXAMPLES, "; ".join(said))
    return questions or default_examples(engine_settings)


def default_examples(engine_settings: Settings) -> tuple[str, ...]:
    """Return the example questions for the bundled corpus (none are known for another)."""
    if tuple(p.resolve() for p in engine_settings.corpus) == (BUNDLED_CORPUS.resolve(),):
        return BUNDLED_EXAMPLES
    return ()


def load_bot_settings(
    engine_settings: Settings,
    api_url: str | None = None,
    webhook_url: str | None = None,
    listen: str | None = None,
    port: int | None = None,
    k: int = 3,
    environ: Mapping[str, str] | None = None,
) -> BotSettings:
    """Build the bot settings from flags (None = not given), then the environment.

    Raises:
        QabotError: the token is missing.
        UsageError: an id list, the rate limit, the webhook URL or secret, or the Bot API URL
            is malformed.
    """
    env = os.environ if environ is None else environ
    token = env.get(ENV_TOKEN, "").strip()
    if not token:
        raise QabotError(
            f"{ENV_TOKEN} is not set; create a bot with @BotFather in Telegram and "
            f"export {ENV_TOKEN}=<its token>"
        )
    if webhook_url is not None and urlsplit(webhook_url).scheme not in ("http", "https"):
        raise UsageError(f"--webhook-url must be an http(s) URL, not {webhook_url!r}")
    feedback = env.get(ENV_FEEDBACK_FILE, "").strip()
    return BotSettings(
        token=token,
        api_url=_api_url(api_url or env.get(ENV_API_URL), token),
        webhook_url=webhook_url,
        listen=listen or DEFAULT_LISTEN,
        port=port or DEFAULT_PORT,
        webhook_secret=_webhook_secret(env),
        allowed_users=_ids(ENV_ALLOWED_USERS, env),
        allowed_chats=_ids(ENV_ALLOWED_CHATS, env),
        admins=_ids(ENV_ADMINS, env),
        rate_limit=_rate_limit(env),
        k=k,
        feedback_file=user_path(feedback, "the votes file") if feedback else None,
        examples=_examples(env, engine_settings),
    )
