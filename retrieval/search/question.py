"""What makes a question usable: not empty, not too long."""

from __future__ import annotations

from retrieval.errors import QabotError, Remedy

MAX_QUESTION_CHARS = 2000


def check_question(query: str) -> str:
    """Return the question stripped, or raise a one-line error for an unusable one."""
    text = query.strip()
    if not text:
        raise QabotError("the question is empty", remedy=Remedy.ASK_QUESTION)
    if len(text) > MAX_QUESTION_CHARS:
        raise QabotError(
            f"the question is {len(text)} characters long; ask in at most "
            f"{MAX_QUESTION_CHARS} characters"
        )
    return text
