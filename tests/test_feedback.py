"""Votes appended as JSON lines, one per vote, from several threads and processes at once.

Each names its voter by a keyed hash; the key is kept beside the votes file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.telegram.feedback import VoteWriter, append_vote, key_path, vote_record
from tests.conftest import REPO


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


def test_a_vote_names_its_voter_by_a_keyed_hash_never_by_their_id(tmp_path: Path) -> None:
    path = tmp_path / "votes.jsonl"
    append_vote(path, "青年路停水？", "news#49", 1, user_id=734_561_298)
    text = path.read_text(encoding="utf-8")
    record = json.loads(text)
    key = bytes.fromhex(key_path(path).read_text(encoding="ascii").strip())
    message = "734561298\0青年路停水？\0news#49".encode()
    expected = hmac.new(key, message, hashlib.sha256).hexdigest()[:16]
    assert record["user"] == expected and re.fullmatch(r"[0-9a-f]{16}", record["user"])
    assert "734561298" not in text and "734_561_298" not in text
    assert len(key) == 32 and stat.S_IMODE(key_path(path).stat().st_mode) == 0o600


def test_the_key_beside_the_votes_is_made_once_and_reused_by_a_new_writer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "votes.jsonl"
    first = VoteWriter(path).voter(42, "问", "news#1")
    key = key_path(path).read_bytes()
    again = VoteWriter(path)  # as after a restart of the bot: the key is read from the file
    assert again.voter(42, " 问 ", "news#1") == first and again.voter(43, "问", "news#1") != first
    assert key_path(path).read_bytes() == key
    # One person's votes on other questions or paragraphs are not tied to this one.
    assert again.voter(42, "另一个问题", "news#1") != first != again.voter(42, "问", "news#2")
    # Another votes file has a key of its own: its hashes cannot be matched with these.
    assert VoteWriter(tmp_path / "other.jsonl").voter(42, "问", "news#1") != first


def test_writers_in_several_processes_share_one_key_and_write_whole_lines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "votes.jsonl"
    script = (
        "import sys; from pathlib import Path; from bot.telegram.feedback import append_vote\n"
        "for i in range(50): append_vote(Path(sys.argv[1]), '问' * 3000, f'news#{i}', 1, 42)\n"
    )
    runs = [subprocess.Popen([sys.executable, "-c", script, str(path)], cwd=REPO) for _ in range(4)]
    assert [run.wait(timeout=120) for run in runs] == [0] * 4
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 200 and len({(r["paragraph"], r["user"]) for r in records}) == 50
    assert sorted(tmp_path.iterdir()) == [path, key_path(path)]  # no temporary key left


@pytest.mark.parametrize(
    ("make_bad", "said"),
    [
        (lambda key: key.write_text("not a key\n"), "does not hold a key (64 hex digits)"),
        (lambda key: key.write_bytes(b"\xff" * 64), "does not hold a key (64 hex digits)"),
        (lambda key: key.mkdir(), "cannot read the votes key file"),
    ],
)
def test_a_bad_key_is_one_logged_sentence_and_the_vote_is_kept_without_its_voter(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    make_bad: Callable[[Path], object],
    said: str,
) -> None:
    path = tmp_path / "votes.jsonl"
    make_bad(key_path(path))
    with caplog.at_level(logging.ERROR, logger="bot.telegram.feedback"):
        append_vote(path, "青年路停水？", "news#49", 1, user_id=734_561_298)
    (logged,) = caplog.records
    assert said in logged.getMessage() and str(key_path(path)) in logged.getMessage()
    assert logged.getMessage().endswith("the vote is kept without its voter")
    assert logged.exc_info is None and "\n" not in logged.getMessage()
    (record,) = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert "user" not in record and record["vote"] == 1
