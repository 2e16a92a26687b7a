"""Settings of the Telegram bot: CLI flags, then environment variables, then defaults."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from retrieval.config import BUNDLED_CORPUS, Settings, user_path
from retrieval.errors import QabotError, UsageError

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
        UsageError: an id list, the rate limit or the webhook URL is malformed.
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
    examples = tuple(q.strip() for q in env.get(ENV_EXAMPLES, "").split("|") if q.strip())
    feedback = env.get(ENV_FEEDBACK_FILE, "").strip()
    return BotSettings(
        token=token,
        api_url=api_url or env.get(ENV_API_URL) or None,
        webhook_url=webhook_url,
        listen=listen or DEFAULT_LISTEN,
        port=port or DEFAULT_PORT,
        # Telegram repeats the secret in a header of every webhook call; a fresh one per start
        # is as good as a fixed one, since the bot registers it again with setWebhook.
        webhook_secret=env.get(ENV_WEBHOOK_SECRET) or secrets.token_urlsafe(32),
        allowed_users=_ids(ENV_ALLOWED_USERS, env),
        allowed_chats=_ids(ENV_ALLOWED_CHATS, env),
        admins=_ids(ENV_ADMINS, env),
        rate_limit=_rate_limit(env),
        k=k,
        feedback_file=user_path(feedback, "the votes file") if feedback else None,
        examples=examples or default_examples(engine_settings),
    )
