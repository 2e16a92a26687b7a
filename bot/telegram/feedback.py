"""Votes on answers (👍/👎), appended to a JSONL file that `qabot eval --feedback` scores."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path

_lock = threading.Lock()


def vote_record(query: str, paragraph_id: str, vote: int, when: datetime | None = None) -> str:
    """Return one line of the votes file: question, paragraph id (doc#N), vote (+1/-1), time."""
    moment = (when or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    record = {"query": query, "paragraph": paragraph_id, "vote": vote, "time": moment}
    return json.dumps(record, ensure_ascii=False)


def append_vote(path: Path, query: str, paragraph_id: str, vote: int) -> None:
    """Append a vote to the votes file (safe from several threads at once)."""
    line = vote_record(query, paragraph_id, vote) + "\n"
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line)
