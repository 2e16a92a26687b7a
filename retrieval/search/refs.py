"""Why words fail to name a paragraph (`N` or `DOC N`), as data for the front ends to word."""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.errors import UsageError

REASONS = ("which_doc", "missing", "no_doc", "not_number", "out_of_range")


class BadParagraphRef(UsageError):
    """Words that name no paragraph, and why.

    `reason` is "which_doc" (several documents and none named), "missing" (no number),
    "no_doc", "not_number" or "out_of_range"; `last` is the highest number in `doc`. Each
    front end words the reason in its own language from these fields.
    """

    def __init__(
        self, reason: str, documents: Sequence[str], doc: str = "", given: str = "", last: int = 0
    ) -> None:
        self.reason = reason
        self.documents = tuple(documents)
        self.doc = doc
        self.given = given
        self.last = last
        super().__init__(f"no paragraph named by {given or '(nothing)'!r}: {reason}")


def split_doc_numbers(words: Sequence[str]) -> list[str]:
    """Return the words with each `DOC#N` (as eval's qrels and the votes file name paragraphs)
    made two: `DOC`, `N`."""
    split = []
    for word in words:
        doc, sign, number = word.rpartition("#")
        split += [doc, number] if sign and doc and number.lstrip("§").isdigit() else [word]
    return split
