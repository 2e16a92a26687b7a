"""Milvus Lite files: the name rules, whether another process has one open, its server's users."""

from __future__ import annotations

import fcntl
import logging
import re
import threading
from pathlib import Path

from retrieval.config import user_path
from retrieval.errors import UsageError

# Milvus Lite's file name rules (milvus_lite.server), checked here to say so in one line.
LITE_NAME = re.compile(r"^[A-Za-z0-9.\-_]{1,36}$")

# How many connections of this process use each Milvus Lite file: the last one to close
# stops its server.
_users: dict[Path, int] = {}
_users_lock = threading.Lock()


def check_lite_path(uri: str) -> Path:
    """Return the absolute path of a Milvus Lite file, its folder made.

    Raises:
        UsageError: the name is not one Milvus Lite takes.
    """
    path = user_path(uri, "the Milvus URI")
    if path.suffix != ".db" or not LITE_NAME.match(path.name):
        raise UsageError(
            f"the Milvus URI {uri!r} is neither a server (http://host:19530) nor a Milvus Lite "
            "file: a file name ends in .db and has at most 36 letters, digits, '.', '-' or '_'"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def lite_in_use(path: Path) -> bool:
    """Tell whether another process runs Milvus Lite on this file (holds its lock).

    Asked before pymilvus tries: a failed start in milvus_lite 2.5 deletes the lock file of
    the process that holds it, after which a third process could open the file beside it.
    """
    from milvus_lite.server_manager import server_manager_instance

    # Closing any descriptor of a file drops this process's own POSIX locks on it, which
    # would stop a Milvus Lite server this process runs: never probe a file served here.
    if str(path) in getattr(server_manager_instance, "_servers", {}):
        return False
    # Milvus Lite 2.5 locks a file beside the database (POSIX lock), Milvus Lite 3 one inside
    # its database folder (flock).
    locks = ((path.parent / f".{path.name}.lock", fcntl.lockf), (path / "LOCK", fcntl.flock))
    for lock, take in locks:
        if not lock.is_file():
            continue
        with lock.open("a") as fh:
            try:
                take(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            take(fh, fcntl.LOCK_UN)
    return False


class HideLiteLog(logging.Filter):
    """Drop Milvus Lite's own error lines (it logs on the root logger); qabot says it better."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "milvus_lite" not in record.pathname


def lite_opened(path: Path) -> None:
    """Count one more connection of this process to a Milvus Lite file."""
    with _users_lock:
        _users[path] = _users.get(path, 0) + 1


def lite_closed(path: Path) -> None:
    """Count one connection fewer; the last one stops the server, releasing the file's lock."""
    with _users_lock:
        users = _users.get(path, 0) - 1
        if users > 0:
            _users[path] = users
            return
        _users.pop(path, None)
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(str(path))
