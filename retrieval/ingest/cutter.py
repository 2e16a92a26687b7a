"""Cut a document's text into cited paragraphs, reading print layout like a careful reader.

Every format reader hands over Markdown-flavoured text (``#`` headings, blank lines between
blocks, a form feed between pages); this module turns it into numbered paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from retrieval.ingest.paragraphs import SECTION_SEP, Paragraph

PAGE_BREAK = "\f"

_ATX = re.compile(r"^#{1,6}(?:\s|$)")
# A Markdown code fence: its lines (a shell `# comment`) are text, never headings.
_FENCE = re.compile(r"^(`{3,}|~{3,})")
# A heading line: its title is the rest without closing #s (`## 标题 ##`). Matched whole and
# trimmed in code: a lazy `(.+?)\s*#*\s*$` took seconds to minutes (cubic) on a heading with
# a long run of spaces inside it.
_HEADING = re.compile(r"(#{1,6})\s+(\S.*)")
_HEADING_ORNAMENT = re.compile(r"^[◆◇●■□▲△★☆▶►•·\s]+")
_CJK_NAME = r"[\u4e00-\u9fff·]{2,5}"
_BYLINE = re.compile(
    rf"^(?:(?:本报)?记者|通讯员|实习生)\s*{_CJK_NAME}(?:[\s、,，]+{_CJK_NAME})*$"
    rf"|^[(（]\s*{_CJK_NAME}(?:[\s、,，]+{_CJK_NAME})*\s*[)）]$"
)
_TRAILING_BYLINE = re.compile(
    rf"(?<=[。！？!?”」])\s*[(（]({_CJK_NAME}(?:[\s、,，]+{_CJK_NAME})*)[)）]$"
)
_MARK = re.compile(r"^[(（]\s*(?:上接|下转|接上|转下|紧接)[^()（）]{0,12}[)）]")
_NEWS_MARK = re.compile(r"^(本报讯|本报综合消息|新华社[^\s，,]{0,12}电)\s*")
_DATE = re.compile(
    r"^(?:\d{4}|[〇○零一二三四五六七八九]{4})年[\d〇○零一二三四五六七八九十]{1,3}月"
    r"[\d〇○零一二三四五六七八九十]{1,3}日$"
)
_SENTENCE_END = set("。！？!?…;；.")
_CLOSERS = "”’」』）)】》\"'"
_CLAUSE_PUNCT = re.compile(r"[。！？!?；;，,：:、]")
_SHORT = 30
# Past this, short lines joined into one paragraph (a list, a table) start a new paragraph.
MAX_JOINED_CHARS = 1500
# A paragraph longer than this (a whole file on one line, a text without paragraph breaks) is
# cut at sentence ends into passages of at most this many characters, numbered in turn: the
# embedding model reads about 500 words of a passage, and a cited passage should be readable.
# No paragraph of the bundled page or of CMRC 2018 (at most 1,036) is that long.
MAX_PARAGRAPH_CHARS = 1500
# Where a long paragraph may be cut: after a sentence end (and its closing quotes), else after
# a clause mark or a space.
_SENTENCE_CUT = re.compile(r"(?:[。！？!?；;…\n]|\.(?=\s))+[”’」』）)】》\"']*")
_CLAUSE_CUT = re.compile(r"[，,、：:\s]+")
_WORDY = re.compile(r"\w")


@dataclass
class _Article:
    title: str
    meta: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Draft:
    path: tuple[str, ...]
    article: _Article | None
    lines: list[str]
    meta: list[tuple[str, str]] = field(default_factory=list)
    page: int | None = None
    size: int = 0
    tail: str = ""  # the text since the last line break: all that joining decisions look at
    whole: bool = False  # a code block: nothing joins it, and it joins nothing

    def __post_init__(self) -> None:
        self.size = sum(len(line) for line in self.lines)
        self.tail = "".join(self.lines).rsplit("\n", 1)[-1]

    def append(self, piece: str) -> None:
        self.lines.append(piece)
        self.size += len(piece)
        self.tail = piece.rsplit("\n", 1)[-1] if "\n" in piece else self.tail + piece

    @property
    def text(self) -> str:
        return "".join(self.lines)


@dataclass(frozen=True)
class _Block:
    lines: list[str]
    page: int | None
    code: bool = False  # the lines of a fenced code block

    @property
    def joined(self) -> str:
        return "\n".join(self.lines)


def _blocks(
    text: str, first_page: int | None, line_paragraphs: bool = False, fences: bool = False
) -> list[_Block]:
    """Split text into blocks at blank lines (and, with line_paragraphs, after each line that
    ends a sentence); a block keeps its (hard-broken) lines and page. With `fences`
    (Markdown), the lines of a closed code fence are one code block, never headings."""
    blocks: list[_Block] = []
    pages = text.split(PAGE_BREAK)
    for offset, page_text in enumerate(pages):
        page = None if first_page is None else first_page + offset
        current: list[str] = []
        lines = [raw.strip() for raw in page_text.splitlines()]
        fenced = _closed_fences(lines) if fences else {}
        i = 0
        while i < len(lines):
            line = lines[i]
            if i in fenced:
                if current:
                    blocks.append(_Block(current, page))
                    current = []
                code = [x for x in lines[i + 1 : fenced[i]] if x]
                if code:
                    blocks.append(_Block(code, page, code=True))
                i = fenced[i] + 1
                continue
            if _ATX.match(line):
                # A heading line stands alone even without blank lines around it (as in Markdown).
                if current:
                    blocks.append(_Block(current, page))
                blocks.append(_Block([line], page))
                current = []
            elif line:
                current.append(line)
                if line_paragraphs and ends_sentence(line):
                    blocks.append(_Block(current, page))
                    current = []
            elif current:
                blocks.append(_Block(current, page))
                current = []
            i += 1
        if current:
            blocks.append(_Block(current, page))
    return blocks


def _closed_fences(lines: list[str]) -> dict[int, int]:
    """Return {opening line: closing line} of the Markdown code fences that close.

    A fence opens with 3+ backticks or tildes (a backtick fence's info string holds no
    backtick: a one-line ```code``` opens none) and closes with a line of 3+ of the same
    character and nothing else; one that never closes is no fence (a stray ``` or a ~~~~
    separator must not swallow the rest of the document).
    """
    fenced: dict[int, int] = {}
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening and not (opening.group(1)[0] == "`" and "`" in lines[i][opening.end() :]):
            mark = opening.group(1)
            close = next(
                (
                    j
                    for j in range(i + 1, len(lines))
                    if lines[j].startswith(mark[0] * len(mark)) and not lines[j].strip(mark[0])
                ),
                None,
            )
            if close is not None:
                fenced[i] = close
                i = close + 1
                continue
        i += 1
    return fenced


def _lines_are_paragraphs(text: str) -> bool:
    """Tell whether most lines of several-line blocks end a sentence: one paragraph a line,
    not text wrapped at a width (whose lines mostly end mid-sentence, `Mr.` or not)."""
    blocks = (block.strip().splitlines() for block in text.split("\n\n"))
    lines = [line.strip() for block in blocks if len(block) > 1 for line in block]
    return sum(map(ends_sentence, lines)) > len(lines) / 2 if lines else False


def ends_sentence(text: str) -> bool:
    """Tell whether text ends a sentence (so the next block does not continue it)."""
    stripped = text.rstrip().rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _SENTENCE_END


def _is_list_like(line: str) -> bool:
    return len(line) <= 40 and not re.search(r"[，,。]", line)


def _join_separator(previous: str, following: str) -> str:
    """Return what goes between a paragraph ending in line `previous` and its continuation."""
    last_line = previous
    if previous.rstrip()[-1:] in (":", "："):
        return "\n"
    # A line broken mid-sentence in Latin script: the words need a space between them.
    if previous[-1:].isascii() and previous[-1:].isalnum() and following[:1].islower():
        return " "
    if _is_list_like(last_line):
        return "\n"
    # A line broken mid-word by print layout: CJK text joins directly.
    return " " if previous[-1:].isascii() and following[:1].isascii() else ""


def _is_fragment(text: str) -> bool:
    """Tell whether a block is a short line that only makes sense beside its neighbour."""
    return len(text) <= _SHORT and not ends_sentence(text) and not re.search(r"[。！？!?]", text)


def _is_deck_line(block: list[str]) -> bool:
    return len(block) == 1 and len(block[0]) <= _SHORT and not _CLAUSE_PUNCT.search(block[0])


def _is_signature(block: list[str]) -> bool:
    if not _DATE.match(block[-1]) or len(block) > 3:
        return False
    return all(len(line) <= _SHORT and not _CLAUSE_PUNCT.search(line) for line in block[:-1])


def _heading(block: list[str]) -> tuple[int, str] | None:
    if len(block) != 1:
        return None
    match = _HEADING.fullmatch(block[0])
    if not match:
        return None
    rest = match.group(2)
    raw = rest.rstrip().rstrip("#").rstrip() or rest[0]
    title = _HEADING_ORNAMENT.sub("", raw).strip()
    return (len(match.group(1)), title) if title else None


def parse_text(
    text: str,
    doc: str,
    title: str | None = None,
    paged: bool = False,
    line_paragraphs: bool = False,
    fences: bool = False,
) -> list[Paragraph]:
    """Parse one document's text into numbered paragraphs with section paths.

    Headings become sections (never answers); lines broken by print layout are re-joined;
    bylines, continuation marks and signatures become metadata of their article; short
    fragments (a street list, "特此通告", a note) stay with the paragraph they belong to.
    With `paged`, form feeds separate pages 1, 2, ... and each paragraph keeps its first page.
    With `line_paragraphs` (plain text), a line that ends a sentence ends its paragraph, as a
    blank line does, when most lines of the text end a sentence: plain Chinese text often
    writes one paragraph a line (text wrapped at a width keeps its lines together).
    With `fences` (Markdown), a closed code fence's lines are text of their own, not headings.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines_end = line_paragraphs and _lines_are_paragraphs(text)
    blocks = _blocks(text, 1 if paged else None, lines_end, fences)
    return _Cutter(doc, title or doc).cut(blocks)


class _Cutter:
    """The state of one pass over a document's blocks: open article, sections, drafts."""

    def __init__(self, doc: str, doc_title: str) -> None:
        self.doc = doc
        self.doc_title = doc_title
        self.stack: list[tuple[int, str]] = []
        self.article: _Article | None = None
        self.closed = True  # no article is open before the first heading
        self.deck: list[str] = []
        self.drafts: list[_Draft] = []
        self.articles: list[_Article] = []
        self.section_start = -1  # index in drafts where the current section began

    def cut(self, blocks: list[_Block]) -> list[Paragraph]:
        leads_to_heading = _deck_runs([b.lines for b in blocks])
        for block, leads in zip(blocks, leads_to_heading, strict=True):
            heading = None if block.code else _heading(block.lines)
            if heading:
                self._open_section(*heading)
            elif block.code:
                owner = self.article if not self.closed else None
                self.drafts.append(_Draft(self._path(), owner, [block.joined], page=block.page))
                self.drafts[-1].whole = True
            elif _WORDY.search(block.joined) and not self._take_metadata(block, leads):
                self._add_text(block)
        _number_duplicate_sections(self.drafts, self.articles)
        pieces = [(d, text) for d in self.drafts for text in cut_long(d.text)]
        return [self._paragraph(n, d, text) for n, (d, text) in enumerate(pieces, start=1)]

    def _path(self) -> tuple[str, ...]:
        if self.closed or not self.stack:
            return (self.doc_title,)
        return tuple(t for _, t in self.stack)

    def _open_section(self, level: int, heading_title: str) -> None:
        if self.closed or not self.stack:
            self.stack = []
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        if not self.stack:
            self.article = _Article(heading_title, [("deck", d) for d in self.deck])
            self.articles.append(self.article)
            self.deck = []
            self.closed = False
        self.stack.append((level, heading_title))
        self.section_start = len(self.drafts)

    def _open_meta(self) -> list[tuple[str, str]] | None:
        """Return the metadata list of the open article, if one is open."""
        return self.article.meta if self.article is not None and not self.closed else None

    def _take_metadata(self, block: _Block, leads_to_heading: bool) -> bool:
        """Keep a block that is a mark, byline, signature or deck line as metadata."""
        joined = block.joined
        article_meta = self._open_meta()
        last_meta = self.drafts[-1].meta if self.drafts else None
        if _MARK.match(joined) and _MARK.sub("", joined).strip() == "":
            if article_meta is not None:
                article_meta.append(("mark", joined))
        elif _BYLINE.match(joined):
            target = article_meta if article_meta is not None else last_meta
            if target is not None:
                target.append(("byline", joined.strip("()（）").strip()))
            self.closed = self.closed or article_meta is not None
        elif _is_signature(block.lines):
            target = (
                article_meta
                if article_meta is not None
                else (last_meta if last_meta is not None else [])
            )
            if len(block.lines) > 1:
                target.append(("signed", " ".join(block.lines[:-1])))
            target.append(("date", block.lines[-1]))
            self.closed = True
        elif _is_deck_line(block.lines) and leads_to_heading:
            self.deck.append(joined)
        else:
            return False
        return True

    def _add_text(self, block: _Block) -> None:
        joined, para_meta, trailing = _strip_marks(block.joined)
        drafts = self.drafts
        previous = drafts[-1] if len(drafts) > self.section_start and drafts else None
        if previous is not None and previous.whole:
            previous = None
        if not _WORDY.search(joined):  # only a mark or byline was there
            if previous is not None:
                previous.meta.extend(para_meta)
            return
        path = self._path()
        open_ended = previous is not None and not ends_sentence(previous.tail)
        if previous is not None and previous.size > MAX_JOINED_CHARS:
            open_ended = False  # a run of list lines this long is several paragraphs, not one
        if previous is not None and previous.path == path and open_ended:
            previous.append(_join_separator(previous.tail, joined) + joined)
            previous.meta.extend(para_meta)
        elif (
            previous is not None
            and _is_fragment(joined)
            and not para_meta
            and previous.size <= MAX_JOINED_CHARS
        ):
            previous.append("\n" + joined)
        else:
            owner = self.article if not self.closed else None
            drafts.append(_Draft(path, owner, [joined], para_meta, block.page))
        if trailing and not self.closed:
            if self.article is not None:
                self.article.meta.append(("byline", trailing))
            self.closed = True

    def _paragraph(self, number: int, draft: _Draft, text: str) -> Paragraph:
        meta = list(draft.article.meta) if draft.article else []
        meta += [m for m in draft.meta if m not in meta]
        section = SECTION_SEP.join(draft.path)
        return Paragraph(self.doc, number, section, text, tuple(meta), draft.page)


def cut_long(text: str, limit: int | None = None) -> list[str]:
    """Return text cut into passages of at most `limit` characters (text itself if it fits;
    a passage may end in a few marks more):
    each ends at the last sentence end that fits in the second half of the limit, else the
    last clause mark or space there, else the last of either before, else at the limit; a
    piece with no word left over (a lone `。`) joins the passage before. Linear in the text's
    length. `limit` defaults to MAX_PARAGRAPH_CHARS."""
    limit = MAX_PARAGRAPH_CHARS if limit is None else limit
    pieces: list[str] = []
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        half = len(window) // 2
        end = (
            _last_cut(_SENTENCE_CUT, window, half)
            or _last_cut(_CLAUSE_CUT, window, half)
            or _last_cut(_SENTENCE_CUT, window, 0)
            or _last_cut(_CLAUSE_CUT, window, 0)
            or limit
        )
        _add_piece(pieces, text[start : start + end])
        start += end
    if not pieces:
        return [text]
    _add_piece(pieces, text[start:])
    return pieces


def _add_piece(pieces: list[str], piece: str) -> None:
    """Append a cut piece; one without a word (the `。` past the limit) joins the one before."""
    piece = piece.strip()
    if piece and not _WORDY.search(piece) and pieces:
        pieces[-1] += piece
    elif piece:
        pieces.append(piece)


def _last_cut(pattern: re.Pattern[str], window: str, start: int) -> int:
    """Return where the last match of pattern in window from `start` on ends; 0 if none."""
    ends = [m.end() for m in pattern.finditer(window, start)]
    return ends[-1] if ends else 0


def _strip_marks(joined: str) -> tuple[str, list[tuple[str, str]], str | None]:
    """Split a continuation mark, a news mark and a trailing byline off a block's text."""
    meta: list[tuple[str, str]] = []
    mark = _MARK.match(joined)
    if mark:
        meta.append(("mark", mark.group(0)))
        joined = joined[mark.end() :].lstrip()
    news = _NEWS_MARK.match(joined)
    if news:
        meta.append(("mark", news.group(1)))
        joined = joined[news.end() :]
    trailing = _TRAILING_BYLINE.search(joined)
    if trailing:
        meta.append(("byline", trailing.group(1)))
        joined = joined[: trailing.start()].rstrip()
    return joined, meta, trailing.group(1) if trailing else None


def _deck_runs(blocks: Sequence[list[str]]) -> list[bool]:
    """For each block, tell whether the blocks after it are title-like lines up to a heading."""
    leads = [False] * len(blocks)
    for i in range(len(blocks) - 2, -1, -1):
        following = blocks[i + 1]
        leads[i] = _heading(following) is not None or (_is_deck_line(following) and leads[i + 1])
    return leads


def _number_duplicate_sections(drafts: list[_Draft], articles: list[_Article]) -> None:
    """Give articles that share a title distinct section names: "停水通知 (1)", "(2)"."""
    counts: dict[str, int] = {}
    for art in articles:
        counts[art.title] = counts.get(art.title, 0) + 1
    seen: dict[str, int] = {}
    renamed: dict[int, str] = {}
    for art in articles:
        if counts[art.title] > 1:
            seen[art.title] = seen.get(art.title, 0) + 1
            renamed[id(art)] = f"{art.title} ({seen[art.title]})"
    for draft in drafts:
        if draft.article is not None and id(draft.article) in renamed:
            draft.path = (renamed[id(draft.article)], *draft.path[1:])
