"""The bot under load and faults: many users at once, with and without failing Bot API calls.

Runs `qabot bot` as a process (default model, bundled corpus) against the test Bot API server of
tests/telegram_server.py on 127.0.0.1. `--users` people each send `--per-user` questions within
a few seconds; the run is repeated with `--fault-rate` of the bot's calls failing (429 with
retry_after, 502, or the connection dropped before the server reads the request). For each run
it counts questions answered, lost (no reply) and duplicated (the same reply sent twice), and
times message -> reply.

    python benchmarks/bot_load.py [--users 100] [--per-user 5] [--fault-rate 0.2]

Prints a table and writes benchmarks/results/bot_load.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.questions import SAMPLE as QUESTIONS  # noqa: E402
from tests.support.telegram_server import BotAPIServer, qabot_bot  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "bot_load.json"


def run(users: int, per_user: int, fault_rate: float, timeout: float) -> dict[str, Any]:
    """Start the bot, send users * per_user questions, and count what came back."""
    with (
        BotAPIServer() as server,
        tempfile.TemporaryDirectory() as tmp,
        qabot_bot(
            "--api-url", server.api_url, log=Path(tmp) / "log", env={"QABOT_RATE_LIMIT": "0"}
        ),
    ):
        server.wait_for(lambda c: c.method == "deleteWebhook", timeout=600)
        server.wait_for(lambda c: c.method == "getUpdates", timeout=60)
        if fault_rate:
            server.fail_randomly(fault_rate, seed=12345)
        started = time.monotonic()
        sent = [
            server.send(10_000 + u, QUESTIONS[(u + i) % len(QUESTIONS)])
            for i in range(per_user)
            for u in range(users)
        ]
        send_s = time.monotonic() - started
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(server.replies(m) for m in sent):
                break
            time.sleep(0.5)
        server.fail_randomly(0.0)
        counts = [server.replies(m) for m in sent]
        latencies = [
            min(c.at for c in replies) - server.sent_at[(m["chat"]["id"], m["message_id"])]
            for m, replies in zip(sent, counts, strict=True)
            if replies
        ]
        duplicated = sum(
            1
            for replies in counts
            if any(n > 1 for n in Counter(c.params.get("text") for c in replies).values())
        )
        failures = Counter(c.status for c in server.calls if c.status != 200)
    ms = sorted(s * 1000 for s in latencies) or [float("nan")]
    return {
        "users": users,
        "questions": len(sent),
        "sent_within_s": round(send_s, 2),
        "fault_rate": fault_rate,
        "answered": sum(1 for r in counts if r),
        "lost": sum(1 for r in counts if not r),
        "duplicated": duplicated,
        "median_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))], 1),
        "failed_calls": {str(k): v for k, v in sorted(failures.items())},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--per-user", type=int, default=5)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for replies")
    args = parser.parse_args()
    rows = [
        run(args.users, args.per_user, 0.0, args.timeout),
        run(args.users, args.per_user, args.fault_rate, args.timeout),
    ]
    print(
        f"{'faults':>7} {'questions':>9} {'answered':>8} {'lost':>5} {'duplicated':>10} "
        f"{'median ms':>9} {'p95 ms':>8}  failed calls injected"
    )
    for r in rows:
        print(
            f"{r['fault_rate']:>7.0%} {r['questions']:>9} {r['answered']:>8} {r['lost']:>5} "
            f"{r['duplicated']:>10} {r['median_ms']:>9} {r['p95_ms']:>8}  {r['failed_calls']}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
