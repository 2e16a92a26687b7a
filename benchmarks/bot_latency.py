"""Time from a user's message to the bot's reply, over a local Bot API server, for 1 and 50 users.

Runs `qabot bot` as a process (default model, bundled corpus, the usual QABOT_HOME) against the
test Bot API server of tests/telegram_server.py on 127.0.0.1, and times each question from the
moment the server queues the message to the moment the bot's reply reaches it.

    python benchmarks/bot_latency.py [--questions 50] [--users 50] [--rounds 3]

Prints median and p95 and writes benchmarks/results/bot_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.questions import gold_questions  # noqa: E402
from tests.support.telegram_server import BotAPIServer, qabot_bot  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "bot_latency.json"


def summary(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 1),
        "p95_ms": round(statistics.quantiles(ms, n=20)[18], 1),
        "max_ms": round(ms[-1], 1),
    }


def latency(server: BotAPIServer, message: dict[str, Any]) -> float:
    reply = server.wait_replies(message, timeout=60)[0]
    return reply.at - server.sent_at[(message["chat"]["id"], message["message_id"])]


def one_user(server: BotAPIServer, asked: list[str], count: int) -> list[float]:
    """One person asking `count` questions, each after the previous answer."""
    return [latency(server, server.send(1, asked[i % len(asked)])) for i in range(count)]


def many_users(server: BotAPIServer, asked: list[str], users: int, rounds: int) -> list[float]:
    """`users` people asking at the same moment, `rounds` times."""
    times: list[float] = []
    for r in range(rounds):
        sent = [
            server.send(1000 + r * users + u, asked[(r * users + u) % len(asked)])
            for u in range(users)
        ]
        times += [latency(server, m) for m in sent]
        time.sleep(2)  # let Telegram's flood limit (30 messages a second) refill
    return times


def search_alone(asked: list[str], count: int) -> list[float]:
    """The engine's own time for the same questions, in this process: the bot's floor."""
    from retrieval.config import load_settings
    from retrieval.engine import Engine

    searcher = Engine(load_settings()).searcher
    for question in asked[:5]:
        searcher.search(question)
    times = []
    for i in range(count):
        started = time.perf_counter()
        searcher.search(asked[i % len(asked)])
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=50, help="questions for one user")
    parser.add_argument("--users", type=int, default=50, help="people asking at once")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of concurrent questions")
    args = parser.parse_args()
    asked = gold_questions()
    env = {"QABOT_RATE_LIMIT": "0"}
    with BotAPIServer() as server, tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        with qabot_bot("--api-url", server.api_url, log=Path(tmp) / "log", env=env):
            server.wait_for(lambda c: c.method == "deleteWebhook", timeout=600)
            ready = time.monotonic() - started
            one_user(server, asked, 5)  # warm up
            single = one_user(server, asked, args.questions)
            concurrent = many_users(server, asked, args.users, args.rounds)
    search = summary(search_alone(asked, args.questions))
    one, many = summary(single), summary(concurrent)
    result = {
        "command": "python benchmarks/bot_latency.py " + " ".join(sys.argv[1:]),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "startup_s": round(ready, 1),
        "search_alone": search,
        "one_user": one,
        f"{args.users}_users_at_once": many,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"bot ready in {ready:.1f} s (model and index loaded)")
    print(f"search alone (no Telegram): median {search['median_ms']} ms, p95 {search['p95_ms']} ms")
    print(f"{'users':>8}  {'questions':>9}  {'median ms':>9}  {'p95 ms':>7}  {'max ms':>7}")
    for users, figures in ((1, one), (args.users, many)):
        print(
            f"{users:>8}  {figures['n']:>9}  {figures['median_ms']:>9}  {figures['p95_ms']:>7}"
            f"  {figures['max_ms']:>7}"
        )
    print(f"written to {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
