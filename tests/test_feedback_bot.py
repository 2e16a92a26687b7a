"""Votes pressed in the bot, over a Bot API server on 127.0.0.1: one vote per person counts."""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.telegram import feedback
from bot.telegram.feedback import key_path
from retrieval.engine import Engine
from retrieval.eval.feedback import read_votes
from tests.support.running_bot import RunningBot
from tests.support.telegram_server import BotAPIServer

pytestmark = pytest.mark.slow

_users = itertools.count(734_561_001)
QUESTION = "免费送戏下乡完成了多少场？"
DOC = "shanxi-taiyuan-news-2023-08-30"


def _answer(server: BotAPIServer, user: int) -> tuple[dict[str, Any], str]:
    """Ask the question in the user's chat; return the answer message and its first paragraph."""
    reply = server.wait_replies(server.send(user, QUESTION))[0]
    first = int(reply.buttons()[0]["text"].removeprefix("📖 §"))
    return server.message(reply.result), f"{DOC}#{first}"


def _vote(server: BotAPIServer, user: int, message: dict[str, Any], thumb: str) -> None:
    """Press 👍 or 👎 under the first passage and wait for the bot to say it was recorded."""
    pressed = server.press(user, message, thumb)
    server.wait_for(
        lambda c: (
            c.method == "answerCallbackQuery"
            and c.params.get("callback_query_id") == pressed
            and "已记录" in c.text
        )
    )


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_each_voters_last_vote_counts_once_across_restarts(
    server: BotAPIServer,
    seed_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    votes = tmp_path / "votes.jsonl"
    one, other = next(_users), next(_users)
    with RunningBot(server, seed_engine, feedback_file=votes):
        message, paragraph = _answer(server, one)
        _vote(server, one, message, "👍")
        _vote(server, one, message, "👍")  # tapped twice: still one 👍
        others, same = _answer(server, other)
        assert same == paragraph
        _vote(server, other, others, "👍")
        _vote(server, one, message, "👎")  # changed their mind: their 👎 replaces their 👍
    lines = _lines(votes)
    assert [r["vote"] for r in lines] == [1, 1, 1, -1]
    mine, theirs = lines[0]["user"], lines[2]["user"]
    assert [r["user"] for r in lines] == [mine, mine, theirs, mine] and mine != theirs
    text = votes.read_text(encoding="utf-8")
    assert str(one) not in text and str(other) not in text
    judged = read_votes(votes)
    assert judged.dataset.queries == [] and judged.rejected == {}  # one 👎 and one 👍

    monkeypatch.setattr(feedback, "_writers", {})  # forget the key, as a new process would
    key = key_path(votes).read_bytes()
    with RunningBot(server, seed_engine, feedback_file=votes):
        _vote(server, one, message, "👍")  # the same button after a restart
    assert _lines(votes)[-1]["user"] == mine and key_path(votes).read_bytes() == key
    judged = read_votes(votes)
    assert judged.dataset.qrels == {judged.dataset.queries[0].id: {paragraph: 1}}


def test_a_bad_key_is_one_line_in_the_log_and_the_vote_is_kept(
    server: BotAPIServer,
    seed_engine: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    votes = tmp_path / "votes.jsonl"
    key_path(votes).write_text("not a key\n", encoding="ascii")
    monkeypatch.setattr(feedback, "_writers", {})
    user = next(_users)
    with caplog.at_level(logging.ERROR), RunningBot(server, seed_engine, feedback_file=votes):
        message, paragraph = _answer(server, user)
        sent = len(server.done("sendMessage", chat_id=user))
        _vote(server, user, message, "👍")
        _vote(server, user, message, "👍")
        assert len(server.done("sendMessage", chat_id=user)) == sent  # nothing said in the chat
    (record, again) = _lines(votes)
    assert record["paragraph"] == paragraph and "user" not in record and "user" not in again
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        f"the votes key file {key_path(votes)} does not hold a key (64 hex digits): restore it, "
        "or move it away to start a new one (earlier voters are then not recognised); "
        "the vote is kept without its voter"
    ] * 2
    assert all(r.exc_info is None for r in errors)
