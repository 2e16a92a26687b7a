"""The index directory's note of where its vectors are: which collection, on which deployment."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from pathlib import Path

STATE_FILE = "milvus.json"
# Beside the index directory: the collection a build is filling, so that one cut short (a
# killed process or server) is dropped by the next build, not left on the server for good.
BUILDING_SUFFIX = ".milvus-building"


def read_state(directory: Path) -> dict[str, object]:
    """Return the note of an index directory ({} when there is none or it is unreadable)."""
    try:
        state = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def write_state(directory: Path, state: Mapping[str, object]) -> None:
    """Write the note into an index directory (being built, so not yet seen by readers)."""
    text = json.dumps(dict(state), ensure_ascii=False)
    (directory / STATE_FILE).write_text(text, encoding="utf-8")


def new_collection_name(directory: Path) -> str:
    """Return a name for a new build's collection, unique to the index directory and time."""
    return f"qabot_{re.sub(r'[^A-Za-z0-9_]', '_', directory.name)}_{time.time_ns() // 1000}"


def building_note(directory: Path) -> Path:
    """Return the file that names the collection a build of `directory` is filling."""
    return directory.with_name(directory.name + BUILDING_SUFFIX)


def read_building(directory: Path) -> str:
    """Return the collection the last build of `directory` started to fill ('' if none)."""
    try:
        return building_note(directory).read_text(encoding="utf-8").strip()
    except OSError:
        return ""
