"""The reader of PDF files: the text layer in reading order, with headings and pages.

PDFium (through pypdfium2) gives every character with its box, size and font; the layout is
read here: characters into lines, running heads and page numbers dropped, the page cut into
columns and articles (a recursive XY-cut, as newspaper pages are laid out), lines into
paragraphs (an indented or short line ends one), larger or bold lines into headings.
"""

from __future__ import annotations

import ctypes
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.errors import CorpusError
from retrieval.ingest.readers import Source, register
from retrieval.ingest.text import read_bytes

# A line in this share of the page's height at its top or bottom may be a running head.
MARGIN_BAND = 0.08
# A horizontal gap this many body font sizes wide separates articles, not lines or paragraphs.
WIDE_GAP = 1.0
# Characters further apart than this (in font sizes, loose boxes) are in different columns.
GUTTER = 0.35
# Latin letters this far apart (in font sizes) are still words of one line: justified spaces.
WORD_SPACE = 0.8
# Nested cuts deeper than this are not a page's layout (and would exhaust the stack).
MAX_CUTS = 100
# Running heads repeat (digits aside) on half the pages, or on three (a chapter's own head).
REPEATED_SHARE = 0.5
REPEATED_PAGES = 3
_PAGE_NUMBER = re.compile(
    r"^[-—–·\s]*(?:\d{1,4}|[ivx]{1,5})[-—–·\s]*$"
    r"|^第\s*\d+\s*[页版頁]"
    r"|^\d+\s*/\s*\d+$"
    r"|^(?:page|p\.)\s*\d+(?:\s*of\s*\d+)?$",
    re.IGNORECASE,
)
_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi|w[6-9]|黑体|粗", re.IGNORECASE)


@dataclass
class _Line:
    """A run of characters on one baseline, in one column."""

    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    bold: bool
    text: str = ""
    chars: int = 0  # printing characters, for the body-size vote
    column_right: float = 0.0  # the right edge of the column the line was read in

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass
class _Block:
    kind: str  # "heading", "deck" (kicker lines), "text" (a paragraph), "lines" (kept as set)
    lines: list[_Line] = field(default_factory=list)
    level: int = 0


def _is_cjk(ch: str) -> bool:
    return ch > "\u2e7f" and unicodedata.east_asian_width(ch) in ("W", "F")


def _join(left: str, right: str) -> str:
    """Join a paragraph's lines: CJK text directly, Latin words with a space."""
    if not left or not right:
        return left + right
    a, b = left[-1], right[0]
    if a == "-" and len(left) > 1 and left[-2].isalpha() and b.islower():
        return left[:-1] + right  # a word hyphenated at the line's end
    near = left[-8:] + right[:8]
    if a.isspace() or b.isspace() or any(_is_cjk(ch) for ch in near):
        return left + right  # Chinese lines break anywhere, in numbers and words too
    return f"{left} {right}"


def _font_info(textpage: object, index: int, cache: dict[int, tuple[str, int]]) -> bool:
    """Tell whether character `index` is set in a bold face (by weight or by font name)."""
    import pypdfium2.raw as pdfium_c

    obj = pdfium_c.FPDFText_GetTextObject(textpage, index)
    key = ctypes.cast(obj, ctypes.c_void_p).value or 0
    if key not in cache:
        font = pdfium_c.FPDFTextObj_GetFont(obj)
        name = ""
        if font:
            size = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
            buffer = ctypes.create_string_buffer(size)
            pdfium_c.FPDFFont_GetBaseFontName(font, buffer, size)
            name = buffer.value.decode("utf-8", "replace")
        weight = pdfium_c.FPDFText_GetFontWeight(textpage, index)
        cache[key] = (name, weight)
    name, weight = cache[key]
    return weight >= 600 or bool(_BOLD_NAME.search(name.split("+")[-1]))


def _page_lines(page: object) -> tuple[list[_Line], float]:
    """Read a page's characters into lines (top-down coordinates); return them and the height.

    Characters are measured by their loose boxes (advance width by the font's height), so the
    characters of a line touch and a gap means a new line: the gutter between two columns.
    """
    import pypdfium2.raw as pdfium_c

    height = page.get_height()  # type: ignore[attr-defined]
    textpage = page.get_textpage()  # type: ignore[attr-defined]
    raw = textpage.raw
    rect = pdfium_c.FS_RECTF()
    box = ctypes.byref(rect)
    fonts: dict[int, tuple[str, int]] = {}
    lines: list[_Line] = []
    count = textpage.count_chars()
    text = textpage.get_text_range() if count else ""
    if len(text) != count:  # characters beyond the BMP: one code point per index instead
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(raw, i) or 0xFFFE) for i in range(count))
    # The hot loop of the reader: one call into PDFium per character, the rest in locals.
    get_box = pdfium_c.FPDFText_GetLooseCharBox
    current: _Line | None = None
    chars: list[str] = []
    start = end = top = box_height = size = 0.0
    gap_space = generated = False
    for i, ch in enumerate(text):
        if ch.isspace():
            # A space PDFium made up from a gap counts only if the gap is a space wide (below).
            generated = generated or pdfium_c.FPDFText_IsGenerated(raw, i)
            gap_space = gap_space or not generated
            continue
        if not ch.isprintable():  # control and format characters, private use
            continue
        get_box(raw, i, box)
        left, right, char_top = rect.left, rect.right, rect.top
        gap = left - end
        # Latin words may stand a justified space apart; CJK characters touch.
        reach = WORD_SPACE if ch < "\u2e80" and chars and chars[-1] < "\u2e80" else GUTTER
        if (
            current is not None
            and start - 0.1 * size <= left  # a ligature's letters share one box
            and gap <= reach * size
            and abs(char_top - top) < 0.3 * size
            and abs(char_top - rect.bottom - box_height) < 0.15 * size
        ):
            if (
                gap_space
                or (gap > 0.15 * size and ch.isascii() and chars[-1].isascii())
                or (generated and gap > 0.25 * size)
            ):
                chars.append(" ")
            chars.append(ch)
            end, start = max(end, right), left
            gap_space = generated = False
            continue
        if current is not None:
            current.text, current.x1, current.chars = "".join(chars), end, len(chars)
            current.text += " " if gap_space else ""  # a space between two lines is kept
        top, box_height, start, end = char_top, char_top - rect.bottom, left, right
        size = round(pdfium_c.FPDFText_GetFontSize(raw, i) * 2) / 2 or round(box_height)
        bold = _font_info(raw, i, fonts)
        current = _Line(left, height - top, right, height - rect.bottom, size, bold)
        lines.append(current)
        chars = [ch]
        gap_space = generated = False
    if current is not None:
        current.text, current.x1, current.chars = "".join(chars), end, len(chars)
    textpage.close()
    return _merge_row_pieces(lines), height


def _rows(lines: list[_Line]) -> list[_Line]:
    """Sort lines top down, and left to right within a row (tops a little apart count as one)."""
    ordered: list[_Line] = []
    row: list[_Line] = []
    for line in sorted(lines, key=lambda ln: ln.top):
        if row and line.top - row[0].top >= 0.3 * max(line.size, row[0].size):
            ordered += sorted(row, key=lambda ln: ln.x0)
            row = []
        row.append(line)
    return ordered + sorted(row, key=lambda ln: ln.x0)


def _merge_row_pieces(lines: list[_Line]) -> list[_Line]:
    """Merge pieces of one line that the content stream drew apart (same row, touching)."""
    merged: list[_Line] = []
    for line in _rows(lines):
        for other in reversed(merged[-8:]):
            same_row = abs(other.top - line.top) < 0.3 * line.size
            gap = line.x0 - other.x1
            latin = other.text[-1:] < "\u2e80" and line.text[:1] < "\u2e80"
            if (
                same_row
                and -0.2 * line.size <= gap <= (WORD_SPACE if latin else GUTTER) * line.size
                and (abs(other.size - line.size) < 0.3 and other.bold == line.bold)
            ):
                other.text = _join(other.text, (" " if gap > 0.15 * line.size else "") + line.text)
                other.x1, other.chars = line.x1, other.chars + line.chars
                other.bottom = max(other.bottom, line.bottom)
                break
        else:
            merged.append(line)
    return [ln for ln in merged if ln.text.strip()]


def _running_key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _drop_running_heads(pages: list[tuple[list[_Line], float]]) -> list[list[_Line]]:
    """Remove running heads, footers and page numbers: edge lines repeated or numbering."""
    edge_keys: list[set[str]] = []
    for lines, height in pages:
        keys = {
            _running_key(ln.text)
            for ln in lines
            if ln.bottom < height * MARGIN_BAND or ln.top > height * (1 - MARGIN_BAND)
        }
        edge_keys.append(keys)
    counts = Counter(k for keys in edge_keys for k in keys)
    needed = min(REPEATED_PAGES, max(2, round(len(pages) * REPEATED_SHARE)))
    kept: list[list[_Line]] = []
    for lines, height in pages:
        body = []
        for ln in lines:
            at_edge = ln.bottom < height * MARGIN_BAND or ln.top > height * (1 - MARGIN_BAND)
            repeated = len(pages) > 1 and counts[_running_key(ln.text)] >= needed
            if at_edge and (repeated or _PAGE_NUMBER.match(ln.text.strip())):
                continue
            body.append(ln)
        kept.append(body)
    return kept


def _gaps(spans: Iterable[tuple[float, float]], lo: float, hi: float) -> list[tuple[float, float]]:
    """Return the empty intervals between spans inside (lo, hi), as (start, end)."""
    gaps: list[tuple[float, float]] = []
    reach = lo
    for start, end in sorted(spans):
        if start > reach:
            gaps.append((reach, start))
        reach = max(reach, end)
    return [g for g in gaps if g[0] > lo]


def _split(lines: list[_Line], cuts: Sequence[float], key: str) -> list[list[_Line]]:
    parts: list[list[_Line]] = [[] for _ in range(len(cuts) + 1)]
    for ln in lines:
        position = getattr(ln, key)
        parts[sum(1 for c in cuts if position >= c)].append(ln)
    return [p for p in parts if p]


def _cut_rows(lines: list[_Line], gap: tuple[float, float]) -> list[list[_Line]]:
    return _split(lines, [(gap[0] + gap[1]) / 2], "top")


def _gutters(lines: list[_Line], unit: float) -> list[tuple[float, float]]:
    x0, x1 = min(ln.x0 for ln in lines), max(ln.x1 for ln in lines)
    spans = ((ln.x0, ln.x1) for ln in lines)
    return [g for g in _gaps(spans, x0, x1) if g[1] - g[0] >= GUTTER * unit]


def _has_columns(lines: list[_Line], unit: float) -> bool:
    """Tell whether lines stand in columns of two lines or more (not a short line beside one)."""
    gutters = _gutters(lines, unit) if len(lines) > 3 else []
    columns = _split(lines, [(a + b) / 2 for a, b in gutters], "x0") if gutters else []
    return len(columns) > 1 and all(len(column) > 1 for column in columns)


def _edges(lines: list[_Line]) -> tuple[float, float]:
    """Return the left edge most of a column's lines start at, and the right edge they reach.

    Not the extreme points: section numbers may stand out in the margin, a closing mark may
    hang past the right edge, and a line set in narrow digits may fall a little short.
    """
    starts = sorted(ln.x0 for ln in lines)
    ends = sorted(ln.x1 for ln in lines)
    return starts[int(len(starts) * 0.3)], ends[int(len(ends) * 0.7)]


def _reading_order(
    lines: list[_Line], unit: float, column: tuple[float, float] | None = None, depth: int = 0
) -> list[tuple[list[_Line], tuple[float, float]]]:
    """Cut a page into regions read one after another (recursive XY-cut).

    The wider of the widest horizontal gap (between articles, under a headline: at least a
    line high) and the widest vertical one (a gutter between columns) is cut first; when
    there is neither, a narrower horizontal gap that lets columns appear below a heading.
    A region with none of them is one column, read top down.

    Returns:
        The leaves in reading order, each with the left and right edges of its column.
    """
    if not lines:
        return []
    if column is None:
        column = _edges(lines)
    if depth > MAX_CUTS:  # a pathological page: read what is left top down
        return [(_rows(lines), column)]
    top, bottom = min(ln.top for ln in lines), max(ln.bottom for ln in lines)
    rows = sorted(
        _gaps(((ln.top, ln.bottom) for ln in lines), top, bottom), key=lambda g: g[0] - g[1]
    )
    parts: list[list[_Line]] = []
    row = rows[0][1] - rows[0][0] if rows else 0.0
    gutters = _gutters(lines, unit)
    gutter = max((b - a for a, b in gutters), default=0.0)
    if row >= WIDE_GAP * unit and row >= gutter:
        parts = _cut_rows(lines, rows[0])
    elif gutters:
        columns = _split(lines, [(a + b) / 2 for a, b in gutters], "x0")
        return [
            leaf for part in columns for leaf in _reading_order(part, unit, _edges(part), depth + 1)
        ]
    else:
        for gap in rows[:3]:
            if gap[1] - gap[0] < 0.3 * unit:
                break
            candidate = _cut_rows(lines, gap)
            if any(_has_columns(part, unit) for part in candidate):
                parts = candidate
                break
    if len(parts) < 2:
        return [(_rows(lines), column)]
    return [leaf for part in parts for leaf in _reading_order(part, unit, column, depth + 1)]


@dataclass(frozen=True)
class _Styles:
    body: float
    levels: dict[tuple[float, bool], int]

    def level(self, line: _Line) -> int:
        return self.levels.get((line.size, line.bold), 0)


def _styles(pages: list[list[_Line]]) -> _Styles:
    """Find the body size (most characters) and rank the heading styles into levels 1-6."""
    votes: Counter[float] = Counter()
    bold_votes: Counter[bool] = Counter()
    for lines in pages:
        for ln in lines:
            votes[ln.size] += ln.chars
            bold_votes[ln.bold] += ln.chars
    if not votes:
        return _Styles(0.0, {})
    body = votes.most_common(1)[0][0]
    bold_body = bold_votes.most_common(1)[0][0]
    styles = {
        (ln.size, ln.bold)
        for lines in pages
        for ln in lines
        if len(ln.text) <= 60
        and (ln.size >= body * 1.12 or (ln.bold and not bold_body and ln.size >= body * 0.95))
    }
    levels: dict[tuple[float, bool], int] = {}
    level, previous = 0, 0.0
    for size, bold in sorted(styles, key=lambda s: (-s[0], not s[1])):
        if level == 0 or size < previous * 0.9 or not bold and (size, True) in levels:
            level, previous = level + 1, size
        levels[(size, bold)] = min(level, 6)
    return _Styles(body, levels)


def _blocks(leaves: list[tuple[list[_Line], tuple[float, float]]], styles: _Styles) -> list[_Block]:
    """Group a page's lines, leaf by leaf, into headings and paragraphs."""
    blocks: list[_Block] = []
    previous: _Line | None = None
    last_column: tuple[float, float] | None = None
    for leaf, (left, right) in leaves:
        if (left, right) != last_column:
            previous = None  # a new column: only a carried-over paragraph continues
        last_column = (left, right)
        for ln in leaf:
            ln.column_right = right
            unit = ln.size or styles.body
            level = styles.level(ln)
            indented = ln.x0 - left >= 0.8 * unit
            # A short line set flush right (a signature, a date) is kept as set.
            right_set = (
                ln.x0 - left >= 3 * unit
                and right - ln.x1 <= 0.5 * unit
                and ln.x1 - ln.x0 <= 0.6 * (right - left)
            )
            last = blocks[-1] if blocks else None
            if level:
                if (
                    last is not None
                    and last.kind == "heading"
                    and last.level == level
                    and previous is last.lines[-1]
                    and ln.top - previous.bottom < 0.8 * unit
                ):
                    last.lines.append(ln)
                else:
                    blocks.append(_Block("heading", [ln], level))
            elif last is not None and last.kind == "lines" and right_set and previous is not None:
                last.lines.append(ln)
            elif right_set:
                blocks.append(_Block("lines", [ln]))
            elif (
                last is not None
                and last.kind == "text"
                and _continues(last.lines[-1], ln, previous, right, indented)
            ):
                last.lines.append(ln)
            else:
                blocks.append(_Block("text", [ln]))
            previous = ln
    return blocks


def _continues(
    before: _Line, line: _Line, previous: _Line | None, right: float, indented: bool
) -> bool:
    """Tell whether `line` goes on with the paragraph whose last line is `before`."""
    unit = line.size
    if indented or abs(before.size - line.size) >= 0.3 or before.bold != line.bold:
        return False
    if previous is None:  # the first line of a column: a paragraph carried over from the last
        return not line.bold and before.x1 >= before.column_right - 0.8 * unit
    if previous is not before:
        return False
    # A full line goes on; so does a ragged one whose next line starts mid-sentence (Latin).
    full = right - before.x1 <= 1.2 * unit or line.text[:1].islower()
    close = line.top - before.bottom < 0.8 * unit
    return full and close


def _demote_decks(blocks: list[_Block]) -> None:
    """Make headings that lead straight into a larger heading plain lines (kicker, deck)."""
    following_level = 0
    for block in reversed(blocks):
        if block.kind not in ("heading", "deck"):
            following_level = 0
        elif following_level and following_level < block.level:
            block.kind = "deck"  # keeps its level: a deck above a deck is a deck too
        else:
            following_level = block.level


def _render(block: _Block) -> str:
    if block.kind == "deck":  # each line a block of its own, as the cutter reads decks
        return "\n\n".join(ln.text.strip() for ln in block.lines)
    if block.kind == "lines":
        return "\n".join(ln.text.strip() for ln in block.lines)
    text = ""
    for ln in block.lines:
        text = _join(text, ln.text)
    text = text.strip()
    return f"{'#' * block.level} {text}" if block.kind == "heading" else text


def pdf_text(data: bytes, name: str) -> str:
    """Return a PDF's text as the cutter reads it: headings, blank lines, form feeds.

    Raises:
        CorpusError: the PDF is encrypted, damaged, or has no text layer.
    """
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == 4:
            reason = "it is encrypted (it opens only with a password); save a copy without one"
        elif code == 5:
            reason = "it uses an unsupported security scheme"
        else:
            reason = "it is not a readable PDF (damaged or truncated)"
        raise CorpusError(f"cannot read {name}: {reason}") from exc
    try:
        pages = []
        for index in range(len(document)):
            page = document[index]
            pages.append(_page_lines(page))
            page.close()
    except pdfium.PdfiumError as exc:
        raise CorpusError(f"cannot read {name}: a page is damaged ({exc})") from exc
    finally:
        document.close()
    if not any(lines for lines, _ in pages):
        raise CorpusError(
            f"cannot read {name}: it has no text layer (a scanned PDF?) and qabot does no OCR"
        )
    bodies = _drop_running_heads(pages)
    styles = _styles(bodies)
    unit = styles.body or 10.0
    texts: list[str] = []
    page_blocks: list[list[_Block]] = []
    for lines in bodies:
        leaves = _reading_order(lines, unit)
        page_blocks.append(_blocks(leaves, styles))
    flat = [b for blocks in page_blocks for b in blocks]
    _demote_decks(flat)
    for blocks in page_blocks:
        texts.append("\n\n".join(_render(b) for b in blocks))
    return "\f".join(texts)


@register(".pdf")
def read_pdf(path: Path) -> Source:
    """Read a PDF's text layer, page by page (no OCR: a scan without text is an error)."""
    try:
        import pypdfium2  # noqa: F401
    except ImportError as exc:  # pragma: no cover - a dependency of qabot
        raise CorpusError(f"cannot read {path}: pypdfium2 is not installed") from exc
    return Source(pdf_text(read_bytes(path), str(path)), paged=True)
