"""The reader of Word files (.docx): headings by style, paragraphs and table rows in order.

Headers, footers, footnotes, comments and text boxes are not part of the body that
python-docx walks, so they are left out, as the issue asks.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from retrieval.errors import CorpusError
from retrieval.ingest.html import group_lines
from retrieval.ingest.readers import Source, register
from retrieval.ingest.text import read_bytes

_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.IGNORECASE)
_SPACE = re.compile(r"[ \t\u00a0]+")


def _heading_level(paragraph: Any) -> int:
    """Return a paragraph's heading level (1-6) from its style or outline level; 0 for text."""
    style = paragraph.style
    while style is not None:
        name = (style.name or "").strip()
        if name.lower() == "title":
            return 1
        match = _HEADING_STYLE.match(name)
        if match:
            return min(int(match.group(1)), 6)
        outline = style.element.find(".//{*}outlineLvl")
        if outline is not None:
            value = outline.get(
                "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val", "9"
            )
            if value.isdigit() and int(value) < 9:
                return min(int(value) + 1, 6)
        style = style.base_style
    return 0


def _clean(text: str) -> str:
    lines = (_SPACE.sub(" ", line).strip() for line in text.replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Not body text: deleted runs (tracked changes), text boxes, properties (whose w:tab is a stop).
_LEFT_OUT = {f"{_W}{tag}" for tag in ("del", "moveFrom", "txbxContent", "pPr", "rPr")}
_LEFT_OUT.add("{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback")


def _collect(element: Any, parts: list[str]) -> None:
    for child in element:
        tag = child.tag
        if tag in _LEFT_OUT:
            continue
        if tag == f"{_W}t":
            parts.append(child.text or "")
        elif tag in (f"{_W}tab", f"{_W}ptab"):
            parts.append("\t")
        elif tag == f"{_W}noBreakHyphen":  # Ctrl+Shift+-, in phone numbers and codes
            parts.append("-")
        elif tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
        else:
            _collect(child, parts)


def _paragraph_text(p: Any) -> str:
    """Return a paragraph's text, with tracked insertions (python-docx's `text` drops a w:ins
    run's text) and without tracked deletions."""
    parts: list[str] = []
    _collect(p, parts)
    return "".join(parts)


def _row(row: Any, document: Any) -> str:
    cells: list[str] = []
    for cell in row.cells:
        # A cell's blocks, nested tables too (python-docx's `cell.text` leaves them out).
        text = _clean("\n".join(_blocks(cell._tc, document, headings=False))).replace("\n", " ")
        if text and (not cells or cells[-1] != text):  # a merged cell repeats
            cells.append(text)
    return " | ".join(cells)


def _blocks(container: Any, document: Any, headings: bool = True) -> Iterator[str]:
    """Walk a body (or table cell) in order: paragraphs, tables, and what content controls
    (w:sdt) hold, which python-docx's `iter_inner_content` passes over."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in container:
        if child.tag == f"{_W}tbl":
            yield from group_lines(_row(row, document) for row in Table(child, document).rows)
        elif child.tag == f"{_W}p":
            text = _clean(_paragraph_text(child))
            if not text:
                continue
            level = _heading_level(Paragraph(child, document)) if headings else 0
            yield f"{'#' * level} {text.replace(chr(10), ' ')}" if level else text
        elif child.tag == f"{_W}sdt":
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                yield from _blocks(content, document, headings)
        elif child.tag == f"{_W}customXml":
            yield from _blocks(child, document, headings)


@register(".docx")
def read_docx(path: Path) -> Source:
    """Read a Word document's body: headings, paragraphs and table rows."""
    from docx import Document

    data = read_bytes(path)
    try:
        document = Document(io.BytesIO(data))
    except Exception as exc:  # not a zip, a missing part, bad XML: python-docx has no one error
        raise CorpusError(
            f"cannot read {path}: it is not a readable Word file (.docx); "
            "old .doc files must be saved as .docx first"
        ) from exc
    title = (document.core_properties.title or "").strip() or None
    return Source("\n\n".join(_blocks(document.element.body, document)), title=title)
