"""Votes on answers (👍/👎), appended to a JSONL file that `qabot eval --feedback` scores.

Each vote names its voter by a keyed hash of their Telegram id with the question and the
paragraph, so the reader can keep one vote per person on each, without the file holding who
they are or which other questions they voted on. The key is random, made on the first
vote and kept beside the votes file (`votes.jsonl.key`, readable by its owner only): it does
not change when the bot's token is rotated, and whoever is given the votes file alone cannot
test ids against the hashes (Telegram ids are few enough to try them all with a known key).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
from datetime import datetime, timezone
from pathlib import Path

logger = logging.getLogger(__name__)

VOTER_HEX = 16  # 64 bits: two voters of one file share a hash with odds ~ n² / 2⁶⁵
_KEY = re.compile(r"[0-9a-f]{64}")
_writers: dict[Path, VoteWriter] = {}
_writers_lock = threading.Lock()
_append_lock = threading.Lock()


class VoteKeyError(Exception):
    """The votes file's key cannot be read or made; the message is one sentence for the log."""


def key_path(path: Path) -> Path:
    """Return where the key of a votes file is kept: beside it, `<name>.key`."""
    return path.with_name(path.name + ".key")


def vote_record(
    query: str,
    paragraph_id: str,
    vote: int,
    when: datetime | None = None,
    voter: str | None = None,
) -> str:
    """Return one line of the votes file: question, paragraph id (doc#N), vote (+1/-1), time.

    Args:
        voter: the voter's keyed hash (`VoteWriter.voter`); without it the line has no "user"
            and each such line counts on its own, as in files written before voters were kept.
    """
    moment = (when or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    record: dict[str, object] = {"query": query, "paragraph": paragraph_id, "vote": vote}
    if voter is not None:
        record["user"] = voter
    record["time"] = moment
    return json.dumps(record, ensure_ascii=False)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _read_key(where: Path) -> bytes:
    try:
        text = where.read_bytes().decode("ascii", errors="replace").strip()
    except OSError as exc:
        raise VoteKeyError(f"cannot read the votes key file {where}: {_reason(exc)}") from exc
    if not _KEY.fullmatch(text):
        raise VoteKeyError(
            f"the votes key file {where} does not hold a key (64 hex digits): restore it, "
            "or move it away to start a new one (earlier voters are then not recognised)"
        )
    return bytes.fromhex(text)


def _make_key(where: Path) -> None:
    """Create the key file with a new random key, unless another writer made it first."""
    # Written whole under a temporary name, then linked into place: another process never
    # reads a half-written key, and link() fails if a key is there already (that one wins).
    temporary = where.with_name(f"{where.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(temporary, where)
        except FileExistsError:
            return
        logger.info("made a new key for naming voters: %s", where)
    except OSError as exc:
        raise VoteKeyError(f"cannot create the votes key file {where}: {_reason(exc)}") from exc
    finally:
        temporary.unlink(missing_ok=True)


class VoteWriter:
    """Append votes to one votes file, each naming its voter by a keyed hash."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: bytes | None = None
        self._lock = threading.Lock()

    def _loaded_key(self) -> bytes:
        with self._lock:
            if self._key is None:
                where = key_path(self.path)
                where.parent.mkdir(parents=True, exist_ok=True)
                if not where.exists():
                    _make_key(where)
                # Kept for the life of the writer: a key file removed while the bot runs does
                # not split one person's votes between two keys before the next restart.
                self._key = _read_key(where)
            return self._key

    def voter(self, user_id: int, query: str, paragraph_id: str) -> str:
        """Return the voter's hash for one (question, paragraph): HMAC-SHA256 of the id, the
        question and the paragraph under the file's key, 16 hex digits.

        The reader needs to know only that two votes on the same question and paragraph come
        from one person; a hash of the id alone would also tie together every question that
        person voted on.

        Raises:
            VoteKeyError: the key file cannot be read or made, or holds no key.
        """
        message = f"{user_id}\0{query.strip()}\0{paragraph_id}".encode()
        digest = hmac.new(self._loaded_key(), message, hashlib.sha256)
        return digest.hexdigest()[:VOTER_HEX]

    def append(self, query: str, paragraph_id: str, vote: int, user_id: int | None) -> None:
        """Append one vote as one line (whole, even with other threads or processes appending).

        A key that cannot be used is logged in one sentence and the vote is kept without its
        voter, so it counts on its own as a vote from before voters were recorded.
        """
        voter = None
        if user_id is not None:
            try:
                voter = self.voter(user_id, query, paragraph_id)
            except VoteKeyError as exc:
                logger.error("%s; the vote is kept without its voter", exc)
        data = (vote_record(query, paragraph_id, vote, voter=voter) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The lock keeps this process's lines whole on any file system; one write() to a file
        # opened for appending keeps them whole next to another process's too (a buffered
        # file may cut a long line into two writes).
        with _append_lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            try:
                written = os.write(fd, data)
                while written < len(data):  # a short write (disk full, a signal): finish it
                    written += os.write(fd, data[written:])
            finally:
                os.close(fd)


def append_vote(
    path: Path, query: str, paragraph_id: str, vote: int, user_id: int | None = None
) -> None:
    """Append a vote to the votes file (safe from several threads at once).

    Args:
        user_id: the voter's Telegram id; only its keyed hash is stored. Without it the vote
            counts on its own (a second 👍 from the same person is then counted again).
    """
    with _writers_lock:
        writer = _writers.get(path)
        if writer is None:
            writer = _writers[path] = VoteWriter(path)
    writer.append(query, paragraph_id, vote, user_id)
