"""The index directory's note of where its vectors are: which collection, on which deployment."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from pathlib import Path

STATE_FILE = "milvus.json"


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
