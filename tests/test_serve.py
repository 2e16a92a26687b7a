"""The `qabot bot` command as a real process, against the Bot API server of telegram_server.py."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from bot.telegram.serve import RedactToken
from retrieval.engine import Engine
from tests.support.telegram_server import TOKEN, BotAPIServer, parse_html
from tests.support.telegram_server import qabot_bot as run_qabot_bot

pytestmark = pytest.mark.slow

QUESTION = "迎泽大街什么时候停水？"


@pytest.fixture
def server() -> Iterator[BotAPIServer]:
    with BotAPIServer() as api:
        yield api


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def qabot_bot(
    tmp_path: Path, *args: str, token: str | None = TOKEN
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """Run `qabot bot ARGS` with its output in tmp_path/stderr (see telegram_server.qabot_bot)."""
    return run_qabot_bot(*args, log=tmp_path / "stderr", token=token)


def _stderr(tmp_path: Path) -> str:
    return (tmp_path / "stderr").read_text(encoding="utf-8", errors="replace")


def test_long_polling_bot_answers_and_keeps_the_token_out_of_its_logs(
    server: BotAPIServer, seed_engine: Engine, tmp_path: Path
) -> None:
    # --debug logs every request python-telegram-bot makes: the token must still not show.
    with qabot_bot(tmp_path, "--api-url", server.api_url, "--debug") as process:
        server.wait_for(lambda c: c.method == "deleteWebhook", timeout=120)
        greeting = server.wait_sent(server.send(42, "/start"))[0]
        assert greeting.text.startswith("你好")
        answer = server.wait_replies(server.send(42, QUESTION))[0]
        assert "§49 · 停水通知 (1)" in parse_html(answer.text)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    log = _stderr(tmp_path)
    assert "qabot bot @qabot_test_bot: 50 paragraphs, long polling" in log
    assert "DEBUG" in log and "getUpdates" in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log


def test_webhook_bot_checks_the_secret_token(
    server: BotAPIServer, seed_engine: Engine, tmp_path: Path
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    args = ("--api-url", server.api_url, "--webhook-url", url, "--listen", "127.0.0.1")
    with qabot_bot(tmp_path, *args, "--port", str(port)):
        server.wait_for(lambda c: c.method == "setWebhook", timeout=120)
        assert server.webhook["url"] == url
        secret = server.webhook["secret_token"]
        assert len(secret) >= 32
        # The server delivers updates to the webhook, with the secret, as Telegram does.
        answer = server.wait_replies(server.send(43, QUESTION))[0]
        assert "§49" in answer.text
        assert server.deliveries == [200]
        forged = urllib.request.Request(
            url,
            data=b'{"update_id": 99, "message": {}}',
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "x"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged, timeout=10)
        assert refused.value.code == 403


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("123:not-the-token", "error: the Bot API rejected TELEGRAM_BOT_TOKEN; copy the token"),
        (None, "error: TELEGRAM_BOT_TOKEN is not set; create a bot with @BotFather"),
    ],
)
def test_a_missing_or_rejected_token_is_one_line_and_exit_1(
    server: BotAPIServer, tmp_path: Path, token: str | None, message: str
) -> None:
    started = time.monotonic()
    with qabot_bot(tmp_path, "--api-url", server.api_url, token=token) as process:
        assert process.wait(timeout=60) == 1
    lines = _stderr(tmp_path).splitlines()
    assert len(lines) == 1 and lines[0].startswith(message)
    assert time.monotonic() - started < 30  # before the model loads


def test_the_token_is_redacted_from_any_log_record() -> None:
    import logging

    record = logging.LogRecord("telegram.Bot", logging.DEBUG, "", 0, "URL %s", (TOKEN,), None)
    RedactToken(TOKEN).filter(record)
    assert record.getMessage() == "URL <token>"
