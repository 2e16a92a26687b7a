"""Render answers for people and machines: terminal text, JSON, and the matched-word spans."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence

from bot.wording import MISSING_ENGLISH
from retrieval.ingest import Paragraph
from retrieval.search import Answer, Passage
from retrieval.words import query_terms

BOLD, RESET = "\033[1m", "\033[0m"
ANSWER = "\033[1;4m"  # the answer the reader found: bold and underlined
NOT_FOUND = (
    "Not found: the corpus does not answer this question. "
    "The closest passages follow, for reference only."
)
# ... when the question names something the corpus never mentions, or the closest passage
# lacks the kind of thing asked for.
NOT_FOUND_UNKNOWN = (
    "Not found: the corpus never mentions {name}. The closest passages follow, for reference only."
)
NOT_FOUND_LACKING = (
    "Not found: the closest passage gives no {what}, so the corpus does not answer this "
    "question. The closest passages follow, for reference only."
)
# How a page goes before the paragraph number in a citation: "p. 3 §12".
PAGE_FORM = "p. {page} "
_CJK = re.compile(r"[\u4e00-\u9fff]")


def not_found(answer: Answer) -> str:
    """Return the terminal's "not found" line, saying what is missing when that is known."""
    if answer.unknown:
        return NOT_FOUND_UNKNOWN.format(name=answer.unknown)
    what = MISSING_ENGLISH.get(answer.missing or "")
    return NOT_FOUND_LACKING.format(what=what) if what else NOT_FOUND


def highlight_terms(query: str) -> list[str]:
    """Return the words of a question worth marking in passages (single CJK chars are noise)."""
    return [t for t in query_terms(query) if len(t) >= 2 or (t.isascii() and t.isalnum())]


def match_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Return the merged (start, end) spans of text where any term occurs, case-insensitively."""
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    for term in terms:
        if not term:
            continue
        start = lowered.find(term)
        while start >= 0:
            spans.append((start, start + len(term)))
            start = lowered.find(term, start + len(term))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def answer_text(passage: Passage) -> str | None:
    """Return the answer the reader found in the passage (extractive), or None."""
    if passage.span is None:
        return None
    start, end = passage.span
    return passage.paragraph.text[start:end].strip() or None


def mark_answer(
    text: str,
    answer: tuple[int, int] | None,
    terms: Sequence[str],
    mark: Callable[[str], str],
    mark_answer: Callable[[str], str],
    plain: Callable[[str], str] = lambda s: s,
) -> str:
    """Return text with the answer (its offsets in text) marked by `mark_answer` and the other
    matched terms by `mark`. Offsets, not the answer's text: `9所` is not marked inside `19所`."""
    answers = [answer] if answer is not None and 0 <= answer[0] < answer[1] <= len(text) else []
    words = [
        w for w in match_spans(text, terms) if not any(a < w[1] and w[0] < b for a, b in answers)
    ]
    spans = sorted([(a, b, mark_answer) for a, b in answers] + [(a, b, mark) for a, b in words])
    out: list[str] = []
    position = 0
    for start, end, marker in spans:
        out.append(plain(text[position:start]))
        out.append(marker(text[start:end]))
        position = end
    out.append(plain(text[position:]))
    return "".join(out)


def citation(paragraph: Paragraph, with_doc: bool = False, page_form: str = PAGE_FORM) -> str:
    """Return how a paragraph is cited: `p. 3 §N · section`.

    The document comes first when there are several; the page only where the paragraph has
    one (PDF), in `page_form` (the bot says 第3页).
    """
    where = f"{paragraph.doc} " if with_doc else ""
    page = page_form.format(page=paragraph.page) if paragraph.page is not None else ""
    return f"{where}{page}§{paragraph.number} · {paragraph.section}"


def byline(paragraph: Paragraph) -> str:
    """Return the attribution kept as metadata (byline, signer, date), or ''."""
    parts = [v for k, v in paragraph.meta if k in ("byline", "signed", "date")]
    return " ".join(dict.fromkeys(parts))


def render_text(answer: Answer, color: bool, several_docs: bool = False) -> str:
    """Render an answer for a terminal: rank, §number, section, score, text (matches in bold)."""
    if not answer.passages:
        return "Nothing in the corpus matches this question."
    terms = highlight_terms(answer.query)
    lines: list[str] = []
    if answer.confident is False:
        lines += [not_found(answer), ""]
    for passage in answer.passages:
        p = passage.paragraph
        head = f"{passage.rank}. {citation(p, several_docs)}  (score {passage.score:.3f})"
        lines.append(f"{BOLD}{head}{RESET}" if color else head)
        found = answer_text(passage)
        if found:
            lines.append(f"   answer: {f'{ANSWER}{found}{RESET}' if color else found}")
        body = p.text
        if color:
            body = mark_answer(
                p.text,
                passage.span,
                terms,
                lambda s: f"{BOLD}{s}{RESET}",
                lambda s: f"{ANSWER}{s}{RESET}",
            )
        lines += ["   " + line for line in body.split("\n")]
        if byline(p):
            lines.append(f"   — {byline(p)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def answer_record(answer: Answer) -> dict[str, object]:
    """Return the JSON shape of an answer (documented in the README)."""
    return {
        "query": answer.query,
        "confident": answer.confident,
        "confidence": None if answer.confidence is None else round(answer.confidence, 4),
        "missing": answer.missing,
        "unknown": answer.unknown,
        "answers": [
            {
                "rank": p.rank,
                "score": round(p.score, 6),
                "doc": p.paragraph.doc,
                "paragraph": p.paragraph.number,
                "section": p.paragraph.section,
                "page": p.paragraph.page,
                "text": p.paragraph.text,
                "answer": answer_text(p),
            }
            for p in answer.passages
        ],
    }


def render_json(answer: Answer) -> str:
    return json.dumps(answer_record(answer), ensure_ascii=False)


def render_context(paragraphs: Sequence[Paragraph], focus: int, several_docs: bool = False) -> str:
    """Render a paragraph with its neighbours for a terminal, the focused one marked with »."""
    lines: list[str] = []
    for p in paragraphs:
        marker = "»" if p.number == focus else " "
        lines.append(f"{marker} {citation(p, several_docs)}")
        lines += ["   " + line for line in p.text.split("\n")]
        if p.number == focus and byline(p):
            lines.append(f"   — {byline(p)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
