"""Prefer the paragraphs whose title the question names.

A question that names an article's whole title (`2008年度香港小姐竞选是在哪里举行的？`) is about
that article, though a sibling article may share most of its words (`张舒雅`, the winner of
that contest) and outrank it. Search engines weigh a title match apart from a body match
(BM25F, a boost on the title field); here the title is the last part of a paragraph's section
(`我省落实今年12件民生实事成效显著 › 人群密集公共场所增配AED` -> `人群密集公共场所增配AED`), without
a parenthesised qualifier (`雅芳河 (汉普郡)` -> `雅芳河`, `停水通知 (2)` -> `停水通知`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from retrieval.ingest import Paragraph
from retrieval.ingest.paragraphs import SECTION_SEP
from retrieval.normalize import normalize
from retrieval.search.candidates import Ranking, best_first

# What a paragraph gains, in the fused score's z units, when the question holds its whole
# title. Chosen on cmrc2018-dev: R@1 0.9873 at 0, 0.9894 at 0.25, 0.9916 at 0.5, 0.9922 at
# 1 to 3; no change on corpus/gold (its titles are headlines, which questions do not quote).
TITLE_BONUS = 1.0
# A one-character title would be named by questions about anything.
MIN_TITLE_CHARS = 2

# Only at the end: 雅芳河 (汉普郡). (?<!\s): spaces tried from the run's start (not quadratic).
_QUALIFIER = re.compile(r"(?<!\s)\s*[(（][^()（）]*[)）]\s*$")


def prefer_named_titles(
    question: str, ranking: Ranking, paragraph: Callable[[int], Paragraph]
) -> Ranking:
    """Return the ranking with TITLE_BONUS added to each paragraph whose title the question
    holds whole."""
    asked = normalize(question).lower()
    scores = {}
    named = False
    for row, score in ranking:
        found = title_named(asked, paragraph(row))
        named |= found
        scores[row] = score + (TITLE_BONUS if found else 0.0)
    return best_first(scores) if named else ranking


def title_named(asked: str, paragraph: Paragraph) -> bool:
    """Tell whether the (normalised, lowercased) question holds the paragraph's title."""
    if paragraph.section == paragraph.doc:  # no heading: the section is the file's name
        return False
    title = _title(paragraph.section)
    if len(title) < MIN_TITLE_CHARS:
        return False
    if title.isascii():  # whole words: the heading `Age` is not named by `average`
        return re.search(rf"(?<!\w){re.escape(title)}(?!\w)", asked) is not None
    return title in asked


@functools.lru_cache(maxsize=4096)
def _title(section: str) -> str:
    return normalize(_QUALIFIER.sub("", section.split(SECTION_SEP)[-1])).lower()
