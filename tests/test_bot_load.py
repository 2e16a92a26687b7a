"""The bot under load and faults: 500 questions from 100 people, with 20% of calls failing."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from bot.telegram.settings import BUNDLED_EXAMPLES
from retrieval.engine import Engine
from tests.support.running_bot import RunningBot
from tests.support.telegram_server import DROPPED, BotAPIServer

pytestmark = pytest.mark.slow

USERS = 100
PER_USER = 5
EXPECTED = {BUNDLED_EXAMPLES[0]: "§49", BUNDLED_EXAMPLES[1]: "§17", BUNDLED_EXAMPLES[2]: "§20"}


@pytest.mark.parametrize("fault_rate", [0.0, 0.2])
def test_every_question_is_answered_once(seed_engine: Engine, fault_rate: float) -> None:
    with BotAPIServer() as server, RunningBot(server, seed_engine, rate_limit=0):
        server.fail_randomly(fault_rate, seed=20231)
        started = time.monotonic()
        sent = [
            server.send(50_000 + u, BUNDLED_EXAMPLES[(u + i) % 3])
            for i in range(PER_USER)
            for u in range(USERS)
        ]
        assert time.monotonic() - started < 5  # "within a few seconds"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not all(server.replies(m) for m in sent):
            time.sleep(0.5)
        server.fail_randomly(0.0)
        time.sleep(2)  # a duplicate sent by a late retry would arrive now
        replies = [server.replies(m) for m in sent]
        lost = sum(1 for r in replies if not r)
        duplicated = sum(1 for r in replies if len(r) > 1)
        assert (lost, duplicated) == (0, 0)
        for message, (reply,) in zip(sent, replies, strict=True):
            assert EXPECTED[message["text"]] in reply.text
        injected = Counter(c.status for c in server.calls if c.status != 200)
    if fault_rate:
        # The faults really happened, of every kind, on the calls that carry the answers.
        assert {429, 502, DROPPED} <= set(injected)
        assert sum(injected.values()) >= 0.1 * len(sent)
    else:
        assert not injected
