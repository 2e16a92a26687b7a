"""Normalise text the same way at index and query time: NFKC, Traditional -> Simplified, spaces."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"[^\S\n]+")


@lru_cache(maxsize=1)
def _t2s() -> object:
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert Traditional Chinese characters to Simplified (other text passes through)."""
    return _t2s().convert(text)  # type: ignore[attr-defined]


def normalize(text: str) -> str:
    """Return text in NFKC form (full-width -> half-width), Simplified Chinese, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text)
    return _SPACES.sub(" ", text).strip()
