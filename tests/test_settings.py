"""Settings of the Telegram bot: flags, then environment variables, then defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.telegram.settings import BUNDLED_EXAMPLES, DEFAULT_RATE_LIMIT, load_bot_settings
from retrieval.config import Settings, load_settings
from retrieval.errors import QabotError, UsageError

TOKEN = "123:secret-token"
ENGINE = Settings()


def test_flags_win_over_the_environment() -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": "http://env:8081/bot"}
    settings = load_bot_settings(ENGINE, api_url="http://flag:8081/bot", environ=env)
    assert settings.api_url == "http://flag:8081/bot"
    assert settings.file_url == "http://flag:8081/file/bot"
    assert load_bot_settings(ENGINE, environ=env).api_url == "http://env:8081/bot"
    plain = load_bot_settings(ENGINE, environ={"TELEGRAM_BOT_TOKEN": TOKEN})
    assert plain.api_url is None and plain.file_url is None
    assert plain.rate_limit == DEFAULT_RATE_LIMIT and plain.feedback_file is None
    assert plain.examples == BUNDLED_EXAMPLES
    assert TOKEN not in repr(plain) and plain.webhook_secret not in repr(plain)


def test_access_lists_rate_limit_feedback_and_examples_come_from_the_environment() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "QABOT_ALLOWED_USERS": "1, 2",
        "QABOT_ALLOWED_CHATS": "-100",
        "QABOT_ADMINS": "9",
        "QABOT_RATE_LIMIT": "5",
        "QABOT_FEEDBACK_FILE": "~/votes.jsonl",
        "QABOT_WEBHOOK_SECRET": "s3cret",
        "QABOT_EXAMPLES": "第一个问题？| 第二个？",
    }
    settings = load_bot_settings(Settings(corpus=(Path("/elsewhere"),)), environ=env)
    assert settings.allowed_users == {1, 2} and settings.allowed_chats == {-100}
    assert settings.admins == {9} and settings.rate_limit == 5
    assert settings.feedback_file == Path("~/votes.jsonl").expanduser()
    assert settings.webhook_secret == "s3cret"
    assert settings.examples == ("第一个问题？", "第二个？")
    assert [settings.allows(u, c) for u, c in ((1, 1), (3, -100), (9, 9), (3, 3))] == [
        True,
        True,
        True,
        False,
    ]
    open_to_all = load_bot_settings(ENGINE, environ={"TELEGRAM_BOT_TOKEN": TOKEN})
    assert open_to_all.allows(3, 3) and open_to_all.allows(None, None)


def test_no_examples_are_made_up_for_another_corpus() -> None:
    other = Settings(corpus=(Path("/elsewhere"),))
    assert load_bot_settings(other, environ={"TELEGRAM_BOT_TOKEN": TOKEN}).examples == ()


@pytest.mark.parametrize(
    ("env", "error", "message"),
    [
        ({}, QabotError, "TELEGRAM_BOT_TOKEN is not set; create a bot with @BotFather"),
        ({"TELEGRAM_BOT_TOKEN": " "}, QabotError, "TELEGRAM_BOT_TOKEN is not set"),
        (
            {"TELEGRAM_BOT_TOKEN": TOKEN, "QABOT_ADMINS": "12,bob"},
            UsageError,
            "QABOT_ADMINS holds 'bob'; give numeric Telegram ids separated by commas",
        ),
        (
            {"TELEGRAM_BOT_TOKEN": TOKEN, "QABOT_RATE_LIMIT": "-1"},
            UsageError,
            "QABOT_RATE_LIMIT is '-1'; give questions per user per minute (0 = no limit)",
        ),
    ],
)
def test_bad_settings_say_what_is_wrong(
    env: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        load_bot_settings(ENGINE, environ=env)


def test_a_webhook_url_must_be_http() -> None:
    with pytest.raises(UsageError, match="--webhook-url must be an http"):
        load_bot_settings(
            ENGINE, webhook_url="example.org/hook", environ={"TELEGRAM_BOT_TOKEN": TOKEN}
        )


def test_the_bot_uses_the_durations_of_python_telegram_bot_23(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import warnings

    from telegram.error import RetryAfter

    from bot.telegram.app import build_application
    from retrieval.engine import Engine

    monkeypatch.setenv("PTB_TIMEDELTA", "false")
    monkeypatch.delenv("PTB_TIMEDELTA")  # restored, or removed again, after the test
    build_application(
        load_bot_settings(ENGINE, environ={"TELEGRAM_BOT_TOKEN": TOKEN}), Engine(ENGINE)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a 429 used to warn: retry_after as a number
        flood = RetryAfter(3)
    assert flood.retry_after.total_seconds() == 3  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("environ", "flags", "what"),
    [
        ({"QABOT_HOME": "~nosuchuser_qabot/x"}, {}, "QABOT_HOME"),
        ({}, {"corpus": ["~nosuchuser_qabot/docs"]}, "the corpus"),
        ({"QABOT_CORPUS": "~nosuchuser_qabot/docs"}, {}, "QABOT_CORPUS"),
        ({}, {"milvus_uri": "~nosuchuser_qabot/m.db"}, "the Milvus URI"),
    ],
)
def test_a_home_folder_of_no_user_is_a_usage_error(
    environ: dict[str, str], flags: dict[str, object], what: str
) -> None:
    # Path.expanduser raises RuntimeError for ~user of no user: one line, not a traceback.
    with pytest.raises(UsageError, match=f"^{what} '~nosuchuser_qabot/.*write the full path"):
        load_settings(environ=environ, **flags)  # type: ignore[arg-type]
    assert load_settings(environ={"QABOT_HOME": "~/x"}).home == Path.home() / "x"
