"""Parse corpus documents into cited paragraphs, reading print layout like a careful reader."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.errors import CorpusError

logger = logging.getLogger(__name__)

# Bump when parsing changes what paragraphs a text yields: indexes built before are stale.
PARSER_VERSION = 2
SECTION_SEP = " › "
DOC_SUFFIXES = (".md", ".txt")
# A file this large is almost certainly not prose meant for paragraph retrieval.
MAX_FILE_BYTES = 64 * 1024 * 1024

_ATX = re.compile(r"^#{1,6}(?:\s|$)")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
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
_WORDY = re.compile(r"\w")


@dataclass(frozen=True)
class Paragraph:
    """One citable paragraph: its document, number, section path and text."""

    doc: str
    number: int
    section: str
    text: str
    meta: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        """Return the stable id used in indexes and question sets: ``doc#number``."""
        return f"{self.doc}#{self.number}"

    def meta_values(self, key: str) -> list[str]:
        return [v for k, v in self.meta if k == key]

    @property
    def index_text(self) -> str:
        """Return what is embedded and indexed: section, text, and the facts kept as metadata."""
        # Signers and dates are facts readers ask about; bylines and decks would only add noise.
        extra = [v for k, v in self.meta if k in ("signed", "date")]
        # Text outside any article has the document's name as its section: a file name says
        # nothing of the text, and "shanxi-taiyuan-news" would match every English question.
        head = [] if self.section == self.doc else [self.section]
        return "\n".join([*head, self.text, *extra])


@dataclass(frozen=True)
class Document:
    """A parsed corpus file."""

    doc: str
    path: Path
    title: str
    paragraphs: tuple[Paragraph, ...]
    sha256: str


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
    size: int = 0
    tail: str = ""  # the text since the last line break: all that joining decisions look at

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


def _blocks(text: str) -> list[list[str]]:
    """Split text into blocks at blank lines; a block keeps its (hard-broken) lines."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if _ATX.match(line):
            # A heading line stands alone even without blank lines around it (as in Markdown).
            if current:
                blocks.append(current)
            blocks.append([line])
            current = []
        elif line:
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


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
    match = _HEADING.match(block[0])
    if not match:
        return None
    title = _HEADING_ORNAMENT.sub("", match.group(2)).strip()
    return (len(match.group(1)), title) if title else None


def parse_text(text: str, doc: str, title: str | None = None) -> list[Paragraph]:
    """Parse one document's text into numbered paragraphs with section paths.

    Headings become sections (never answers); lines broken by print layout are re-joined;
    bylines, continuation marks and signatures become metadata of their article; short
    fragments (a street list, "特此通告", a note) stay with the paragraph they belong to.
    """
    doc_title = title or doc
    blocks = _blocks(text.replace("\r\n", "\n").replace("\r", "\n"))
    stack: list[tuple[int, str]] = []
    article: _Article | None = None
    closed = True  # no article is open before the first heading
    deck: list[str] = []
    drafts: list[_Draft] = []
    articles: list[_Article] = []
    last_heading_at = -1  # index in drafts where the current section began
    leads_to_heading = _deck_runs(blocks)

    def current_path() -> tuple[str, ...]:
        if closed or not stack:
            return (doc_title,)
        return tuple(t for _, t in stack)

    for i, block in enumerate(blocks):
        heading = _heading(block)
        if heading:
            level, heading_title = heading
            if closed or not stack:
                stack = []
            while stack and stack[-1][0] >= level:
                stack.pop()
            if not stack:
                article = _Article(heading_title, [("deck", d) for d in deck])
                articles.append(article)
                deck = []
                closed = False
            stack.append((level, heading_title))
            last_heading_at = len(drafts)
            continue

        joined = "\n".join(block)
        if not _WORDY.search(joined):
            continue  # rules, ornaments, an empty "#": layout, not text
        if _MARK.match(joined) and _MARK.sub("", joined).strip() == "":
            if article is not None and not closed:
                article.meta.append(("mark", joined))
            continue
        if _BYLINE.match(joined):
            if article is not None and not closed:
                article.meta.append(("byline", joined.strip("()（）").strip()))
                closed = True
            elif drafts:
                drafts[-1].meta.append(("byline", joined.strip("()（）").strip()))
            continue
        if _is_signature(block):
            target = (
                article.meta
                if article is not None and not closed
                else (drafts[-1].meta if drafts else [])
            )
            if len(block) > 1:
                target.append(("signed", " ".join(block[:-1])))
            target.append(("date", block[-1]))
            closed = True
            continue
        if _is_deck_line(block) and leads_to_heading[i]:
            deck.append(joined)
            continue

        para_meta: list[tuple[str, str]] = []
        mark = _MARK.match(joined)
        if mark:
            para_meta.append(("mark", mark.group(0)))
            joined = joined[mark.end() :].lstrip()
        news = _NEWS_MARK.match(joined)
        if news:
            para_meta.append(("mark", news.group(1)))
            joined = joined[news.end() :]
        trailing = _TRAILING_BYLINE.search(joined)
        if trailing:
            para_meta.append(("byline", trailing.group(1)))
            joined = joined[: trailing.start()].rstrip()

        previous = drafts[-1] if len(drafts) > last_heading_at and drafts else None
        if not _WORDY.search(joined):  # only a mark or byline was there
            if previous is not None:
                previous.meta.extend(para_meta)
            continue
        path = current_path()
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
            owner = article if not closed else None
            drafts.append(_Draft(path, owner, [joined], para_meta))
        if trailing and not closed:
            if article is not None:
                article.meta.append(("byline", trailing.group(1)))
            closed = True

    _number_duplicate_sections(drafts, articles)
    paragraphs = []
    for number, draft in enumerate(drafts, start=1):
        meta = list(draft.article.meta) if draft.article else []
        meta += [m for m in draft.meta if m not in meta]
        paragraphs.append(
            Paragraph(doc, number, SECTION_SEP.join(draft.path), draft.text, tuple(meta))
        )
    return paragraphs


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


def read_text(path: Path) -> str:
    """Read a corpus file as text: UTF-8 (with or without BOM), else GB18030.

    Raises:
        CorpusError: the file is unreadable, binary, too large, or in neither encoding.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CorpusError(
                f"{path} is {size // (1024 * 1024)} MiB, over the {MAX_FILE_BYTES // (1024 * 1024)}"
                " MiB limit for one document; split it into smaller files"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if b"\x00" in data:
        raise CorpusError(f"{path} looks like a binary file, not text; remove it from the corpus")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CorpusError(f"{path} is neither UTF-8 nor GB18030 text; convert it to UTF-8")


def find_corpus_files(paths: Iterable[Path]) -> list[Path]:
    """List the .md/.txt files of the given files and folders, in a stable order.

    Raises:
        CorpusError: a path does not exist, or no document is found at all.
    """
    files: list[Path] = []
    given = list(paths)
    for path in given:
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and p.suffix.lower() in DOC_SUFFIXES
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            raise CorpusError(f"corpus path {path} does not exist (give --corpus PATH)")
    if not files:
        where = ", ".join(str(p) for p in given) or "(none)"
        raise CorpusError(f"no corpus files (.md, .txt) found in {where} (give --corpus PATH)")
    return files


def _doc_ids(files: Sequence[Path]) -> list[str]:
    """Name each document by its file stem, adding parent folders only where stems clash."""
    stems = [f.stem for f in files]
    ids = []
    for f in files:
        name = f.stem
        if stems.count(name) > 1:
            name = f"{f.parent.name}/{f.stem}"
        ids.append(name)
    return ids


def load_documents(paths: Iterable[Path]) -> tuple[list[Document], list[str]]:
    """Parse every document of the corpus.

    A file named directly that cannot be read is an error; a file found inside a folder that
    cannot be read is skipped with a warning, so the other documents are still indexed.

    Returns:
        The documents, and one warning line per skipped or empty file.
    """
    given = list(paths)
    explicit = {p.resolve() for p in given if p.is_file()}
    files = find_corpus_files(given)
    documents: list[Document] = []
    warnings: list[str] = []
    for path, doc in zip(files, _doc_ids(files), strict=True):
        try:
            text = read_text(path)
        except CorpusError as exc:
            if path.resolve() in explicit:
                raise
            warnings.append(f"skipped: {exc}")
            continue
        paragraphs = parse_text(text, doc)
        if not paragraphs:
            warnings.append(f"skipped: {path} has no text")
            continue
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        documents.append(Document(doc, path, doc, tuple(paragraphs), digest))
    if not documents:
        raise CorpusError("no readable text in the corpus: " + "; ".join(warnings))
    return documents, warnings


def corpus_fingerprint(files: Sequence[Path]) -> str:
    """Return a hash of the corpus files' bytes and the parser version, without parsing them.

    This is what decides whether an index is stale; it reads the files but does not parse
    them, so checking a large corpus costs milliseconds. Unreadable files count too, so that
    fixing one makes the index stale.
    """
    h = hashlib.sha256(f"parser-{PARSER_VERSION}".encode())
    for path, doc in zip(files, _doc_ids(files), strict=True):
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            digest = f"unreadable:{exc.errno}"
        h.update(f"\0{doc}\0{digest}".encode())
    return h.hexdigest()


def corpus_hash(documents: Iterable[Document]) -> str:
    """Return a hash of the corpus content and the parser version (what an index depends on)."""
    h = hashlib.sha256(f"parser-{PARSER_VERSION}".encode())
    for d in documents:
        h.update(f"\0{d.doc}\0{d.sha256}".encode())
    return h.hexdigest()


def iter_paragraphs(documents: Iterable[Document]) -> Iterator[Paragraph]:
    for d in documents:
        yield from d.paragraphs
