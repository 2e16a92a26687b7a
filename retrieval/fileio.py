"""Durable writes: fsync files and folders, and put a finished folder in place in one rename."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def fsync_file(path: Path) -> None:
    """Flush a written file's data to disk."""
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (names of new files, renames) to disk, where the OS can."""
    # Some platforms (Windows) and file systems cannot open or fsync a folder; a rename is
    # still atomic there.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """Flush every file and folder below `folder`, and `folder` itself, to disk."""
    paths = sorted(folder.rglob("*"))
    for path in paths:
        if path.is_file():
            fsync_file(path)
    # Deepest first, so a folder's entries are on disk before the folder that names it.
    for path in reversed(paths):
        if path.is_dir():
            fsync_dir(path)
    fsync_dir(folder)


def replace_dir(new: Path, dest: Path) -> None:
    """Put the finished folder `new` at `dest`, replacing what is there in one rename.

    A rename cannot replace a non-empty folder: the old one is renamed aside first and
    removed after, so `dest` is missing only between two renames, never half-written.
    """
    old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
    if dest.exists():
        os.replace(dest, old)
    os.replace(new, dest)
    shutil.rmtree(old, ignore_errors=True)
