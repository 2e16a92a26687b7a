"""The bot's settings checked at start-up, and the token kept out of what `qabot bot` prints.

(tests/test_settings.py has the other settings of the bot.)
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest
from telegram.error import NetworkError

from bot.cli.parser import build_parser
from bot.telegram import app, serve
from bot.telegram.app import check_token
from bot.telegram.settings import BotSettings, load_bot_settings, redact_token
from retrieval.config import Settings
from retrieval.engine import Engine
from retrieval.errors import QabotError, UsageError
from tests.support.telegram_server import TOKEN, BotAPIServer, qabot_bot

ENGINE = Settings()
SECRET_HALF = TOKEN.split(":")[1]


def _env(**more: str) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": TOKEN, **more}


def _stderr_lines(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8", errors="replace").splitlines()


# -- the Bot API URL and the token -------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8081",
        "http://127.0.0.1:8081/",
        "http://127.0.0.1:8081/bot/",
        "127.0.0.1:8081/bot",
        "ftp://127.0.0.1/bot",
        f"https://api.telegram.org/bot{TOKEN}",
    ],
)
def test_a_bot_api_url_must_end_in_bot(url: str) -> None:
    with pytest.raises(UsageError) as refused:
        load_bot_settings(ENGINE, api_url=url, environ=_env())
    message = refused.value.message
    assert message.startswith("TELEGRAM_API_URL (or --api-url) is '")
    assert message.endswith(
        "not a Bot API URL: write the server's address with /bot at the end, "
        "e.g. http://127.0.0.1:8081/bot"
    )
    assert TOKEN not in message and SECRET_HALF not in message
    with pytest.raises(UsageError):
        load_bot_settings(ENGINE, environ=_env(TELEGRAM_API_URL=url))


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8081/bot", "https://api.telegram.org/bot", "https://x.org/tg/bot{token}/"],
)
def test_a_bot_api_url_is_taken_as_it_is(url: str) -> None:
    assert load_bot_settings(ENGINE, api_url=url, environ=_env()).api_url == url


def test_the_token_and_its_secret_half_are_redacted() -> None:
    text = f"URL http://h/bot{TOKEN}/getMe, escaped 7000001%3A{SECRET_HALF}"
    assert redact_token(text, TOKEN) == "URL http://h/bot<token>/getMe, escaped 7000001%3A<token>"
    record = logging.LogRecord("httpx", logging.INFO, "", 0, "%s", (f"port '1{TOKEN}'",), None)
    serve.RedactToken(TOKEN).filter(record)
    assert record.getMessage() == "port '1<token>'"


def test_an_unreachable_bot_api_is_said_without_the_token() -> None:
    # The URL has no /bot (load_bot_settings refuses it; here it is given as it is): the
    # token runs on from the port, and the HTTP library quotes it in its error.
    with BotAPIServer() as server:
        settings = BotSettings(token=TOKEN, api_url=f"http://127.0.0.1:{server.port}")
        with pytest.raises(QabotError) as failed:
            asyncio.run(check_token(settings))
    message = failed.value.message
    assert message.startswith(f"cannot reach the Bot API at http://127.0.0.1:{server.port}: ")
    assert "<token>" in message and TOKEN not in message and SECRET_HALF not in message


def test_a_server_that_is_no_bot_api_is_not_said_to_reject_the_token() -> None:
    with BotAPIServer() as server:
        url = f"http://127.0.0.1:{server.port}/telegram/bot"  # 404 for every path under it
        with pytest.raises(QabotError) as failed:
            asyncio.run(check_token(BotSettings(token=TOKEN, api_url=url)))
    assert failed.value.message == (
        f"the server at {url} answered 404 Not Found: it is probably not a Bot API URL "
        "(e.g. http://127.0.0.1:8081/bot), or TELEGRAM_BOT_TOKEN is malformed"
    )


@pytest.mark.slow
def test_a_bot_api_url_without_bot_is_one_line_and_exit_2(tmp_path: Path) -> None:
    log = tmp_path / "stderr"
    with BotAPIServer() as server:
        url = f"http://127.0.0.1:{server.port}"
        with qabot_bot("--api-url", url, log=log) as process:
            assert process.wait(timeout=60) == 2
    assert _stderr_lines(log) == [
        f"error: TELEGRAM_API_URL (or --api-url) is '{url}', not a Bot API URL: write the "
        "server's address with /bot at the end, e.g. http://127.0.0.1:8081/bot"
    ]


@pytest.mark.slow
def test_the_bot_stopping_on_an_error_says_so_without_the_token(
    seed_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise NetworkError(f"Unknown error in HTTP implementation: InvalidURL('x/bot{TOKEN}')")

    monkeypatch.setattr(app, "run", fail)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    with BotAPIServer() as server:
        args = build_parser().parse_args(["bot", "--api-url", server.api_url])
        with pytest.raises(QabotError) as stopped:
            serve.cmd_bot(args, sys.stdout)
    assert stopped.value.message == (
        "the bot stopped: Unknown error in HTTP implementation: InvalidURL('x/bot<token>')"
    )
    # Not chained: `qabot bot --debug` prints the error's traceback as it is.
    assert stopped.value.__cause__ is None and stopped.value.__suppress_context__


# -- the webhook's secret ----------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["my secret!", "密码", "a" * 257, " "])
def test_a_webhook_secret_telegram_would_refuse_is_a_usage_error(secret: str) -> None:
    with pytest.raises(UsageError) as refused:
        load_bot_settings(ENGINE, environ=_env(QABOT_WEBHOOK_SECRET=secret))
    assert refused.value.message == (
        "QABOT_WEBHOOK_SECRET holds characters Telegram does not allow; give 1-256 letters, "
        "digits, _ or -"
    )


def test_a_webhook_secret_telegram_takes_is_kept() -> None:
    secret = "Abc_123-" * 32
    assert load_bot_settings(ENGINE, environ=_env(QABOT_WEBHOOK_SECRET=secret)).webhook_secret == (
        secret
    )


@pytest.mark.slow
def test_a_bad_webhook_secret_is_one_line_and_exit_2_before_the_model_loads(
    tmp_path: Path,
) -> None:
    log = tmp_path / "stderr"
    with BotAPIServer() as server:
        env = {"QABOT_WEBHOOK_SECRET": "my secret!"}
        args = ("--api-url", server.api_url, "--webhook-url", "https://bot.example.org/hook")
        with qabot_bot(*args, log=log, env=env) as process:
            assert process.wait(timeout=60) == 2
        assert server.calls == []  # not even the token was checked
    assert _stderr_lines(log) == [
        "error: QABOT_WEBHOOK_SECRET holds characters Telegram does not allow; give 1-256 "
        "letters, digits, _ or -"
    ]


# -- example questions -------------------------------------------------------------------------


def test_examples_that_are_no_questions_or_too_long_are_named_once_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    long = "请问" + "迎泽大街" * 6 + "什么时候停水？"
    env = _env(QABOT_EXAMPLES=f"迎泽大街什么时候停水？|你好|{long}|谢谢")
    with caplog.at_level(logging.WARNING):
        settings = load_bot_settings(ENGINE, environ=env)
    assert settings.examples == ("迎泽大街什么时候停水？", long)
    assert [r.getMessage() for r in caplog.records] == [
        "QABOT_EXAMPLES: left out, not questions: '你好', '谢谢'; "
        f"no /start button, too long for its data: '{long}'"
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        load_bot_settings(ENGINE, environ=_env(QABOT_EXAMPLES="迎泽大街什么时候停水？"))
    assert caplog.records == []
