"""Votes appended as JSON lines, one per vote, from several threads at once."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path

from bot.telegram.feedback import append_vote, vote_record


def test_a_vote_record_has_question_paragraph_vote_and_time() -> None:
    when = datetime(2024, 5, 1, 8, 30, tzinfo=timezone.utc)
    assert json.loads(vote_record("青年路停水？", "news#49", -1, when)) == {
        "query": "青年路停水？",
        "paragraph": "news#49",
        "vote": -1,
        "time": "2024-05-01T08:30:00+00:00",
    }


def test_votes_from_many_threads_are_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "votes.jsonl"
    threads = [
        threading.Thread(target=append_vote, args=(path, "问" * 500, f"news#{i}", 1))
        for i in range(40)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["paragraph"] for r in records) == sorted(f"news#{i}" for i in range(40))
