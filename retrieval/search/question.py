"""What makes a question usable: not empty, not too long."""

from __future__ import annotations

import re

from retrieval.errors import QabotError, Remedy, UsageError

MAX_QUESTION_CHARS = 2000
_WORDY = re.compile(r"\w")


class NoWordsError(UsageError):
    """A question with no words at all (emoji, punctuation): nothing to look for."""


def check_question(query: str) -> str:
    """Return the question stripped, or raise a one-line error for an unusable one."""
    text = query.strip()
    if not text:
        raise QabotError("the question is empty", remedy=Remedy.ASK_QUESTION)
    if not _WORDY.search(text):
        # Emoji and punctuation alone would still find "closest" paragraphs: say so instead.
        raise NoWordsError(
            f"the question {text[:20]!r} has no words to look for", remedy=Remedy.ASK_QUESTION
        )
    if len(text) > MAX_QUESTION_CHARS:
        raise QabotError(
            f"the question is {len(text)} characters long; ask in at most "
            f"{MAX_QUESTION_CHARS} characters"
        )
    return text
