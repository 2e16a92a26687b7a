"""The reader of web pages (.html, .htm): the main article, its headings, paragraphs and tables.

The bytes are decoded by the page's own declaration (BOM, ``<meta charset>``, http-equiv),
else as UTF-8, else by detection (charset-normalizer): GBK, GB18030, Big5 and UTF-8 pages
all read right. Menus, ads, share bars, comments and footers are dropped twice over: by
their tags and class names, then by readability's choice of the main content.
"""

from __future__ import annotations

import codecs
import copy
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from retrieval.errors import CorpusError
from retrieval.ingest.cutter import MAX_JOINED_CHARS, ends_sentence
from retrieval.ingest.readers import Source, register
from retrieval.ingest.text import read_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# Chinese pages declare the old names of encodings whose newer supersets decode them right.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs", "ascii": "utf-8"}
_BOILERPLATE_TAGS = ("nav", "footer", "aside", "form", "script", "style", "noscript", "iframe")
_BOILERPLATE = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|menu|breadcrumbs?|crumbs?|share|sharing|social|ads?|advert\w*"
    r"|banner|sponsor\w*|comments?|reply|related|recommend\w*|footer|foot|copyright|sidebar"
    r"|toolbar|subscribe|login|pager|pagination)(?:$|[\s_-])",
    re.IGNORECASE,
)
# A boilerplate-named element with more than this share of the page's text is the page itself.
MOST_OF_PAGE = 0.5
# Readability's article with less than this share of the cleaned page's text missed it.
FOUND_TOO_LITTLE = 0.2
# (?<!\s): a run of spaces is tried from its start only (else quadratic on a long run).
_TITLE_SEPARATOR = re.compile(r"(?<!\s)\s*(?:_|\||-{1,2}|–|—|·)\s*")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_SPACE = re.compile(r"[ \t\r\n\u00a0\u3000]+")
_BLOCK_TAGS = {"p", "div", "blockquote", "pre", "dd", "dt", "figcaption", "section", "article"}
# Numbers each element of the page, so readability's choice is found in the page itself.
_ELEMENT_MARK = "data-qabot-element"


def decode_html(data: bytes, name: str) -> str:
    """Decode a web page: its declared encoding, else UTF-8, else a detected one.

    Raises:
        CorpusError: the file is binary, not a page.
    """
    head = data[:4096]
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CorpusError(f"cannot read {name}: it looks like a binary file, not a web page")
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    candidates: list[str] = []
    declared = _META_CHARSET.search(head)
    if declared:
        label = declared.group(1).decode("ascii", "ignore").lower()
        try:
            encoding = codecs.lookup(label).name
        except LookupError:
            encoding = ""
        # WHATWG: a page read far enough to find its meta is not UTF-16 or UTF-32, whatever
        # it says (without a BOM); such a declaration means UTF-8.
        if encoding and not encoding.startswith(("utf-16", "utf-32")):
            candidates.append(_SUPERSETS.get(encoding, encoding))
    candidates.append("utf-8")
    for encoding in candidates:
        try:
            return data.decode(_SUPERSETS.get(encoding, encoding))
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise CorpusError(f"cannot read {name}: it looks like a binary file, not a web page")
    encoding = best.encoding.replace("_", "").lower()
    return data.decode(_SUPERSETS.get(encoding, best.encoding), errors="replace")


def _strip_boilerplate(root: Any) -> None:
    """Remove navigation, ads, share bars, comments and footers by tag and by class or id.

    An element holding most of the page's text is kept whatever its name: some sites wrap
    the whole page in one ``<form>``, or name the article's box "article ad-free".
    """
    for comment in root.xpath("//comment()"):
        comment.drop_tree()
    total = len(_SPACE.sub("", root.text_content()))
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element.tag in ("html", "body"):
            continue
        names = f"{element.get('class', '')} {element.get('id', '')}"
        if element.tag in _BOILERPLATE_TAGS or _BOILERPLATE.search(names):
            if element.getparent() is None:
                continue
            if _holds_the_page(element, total):
                element.tag = "div"  # readability drops forms: a page-wide one is a box
                continue
            element.drop_tree()


def _holds_the_page(element: Any, total: int) -> bool:
    """Tell whether an element holds most of the page's text, in paragraphs or headings."""
    if element.tag in ("script", "style", "nav"):
        return False
    if len(_SPACE.sub("", element.text_content())) <= MOST_OF_PAGE * total:
        return False
    return any(True for _ in element.iter("p", "h1", "h2", "h3", "article"))


def _text(element: Any) -> str:
    """Return an element's text on one line."""
    return _SPACE.sub(" ", "".join(element.itertext())).strip()


def _collect(element: Any, parts: list[str]) -> None:
    if element.tag == "br":
        parts.append("\n")
    elif isinstance(element.tag, str) and element.text:
        parts.append(element.text)
    for child in element:
        _collect(child, parts)
        if child.tail:
            parts.append(child.tail)


def _lines(element: Any) -> str:
    """Return a paragraph's text, one line per ``<br>``-separated line."""
    parts: list[str] = []
    _collect(element, parts)
    lines = (_SPACE.sub(" ", line).strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _blocks(element: Any) -> Iterator[str]:
    """Walk the article in document order: headings, paragraphs, list items, table rows."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if re.fullmatch(r"h[1-6]", tag):
        text = _text(element)
        if text:
            yield f"{'#' * int(tag[1])} {text}"
        return
    if tag == "table":
        yield from group_lines(_row(tr) for tr in element.iter("tr"))
        return
    if tag in ("ul", "ol"):
        items = [_lines(li) for li in element if li.tag == "li"]
        yield from group_lines(items)
        return
    if tag in ("li", "p", "pre") or (tag in _BLOCK_TAGS and not _has_blocks(element)):
        text = _lines(element)
        if text:
            yield text
        return
    if tag and element.text and element.text.strip():
        yield _SPACE.sub(" ", element.text).strip()
    for child in element:
        yield from _blocks(child)
        if child.tail and child.tail.strip() and tag in _BLOCK_TAGS | {"body", "td"}:
            yield _SPACE.sub(" ", child.tail).strip()


def _row(tr: Any) -> str:
    cells = [_text(c) for c in tr if c.tag in ("td", "th")]
    return " | ".join(c for c in cells if c)


def group_lines(lines: Iterable[str], limit: int = MAX_JOINED_CHARS) -> Iterator[str]:
    """Yield runs of short lines (table rows, list items) as blocks of one line each.

    A short line standing alone before a heading would be read as the heading's deck; a run
    of them in one block stays text. A long item (a sentence or more) is a block of its own.
    """
    run: list[str] = []
    for line in lines:
        if not line:
            continue
        if len(line) > 60 and ends_sentence(line):
            if run:
                yield "\n".join(run)
                run = []
            yield line
            continue
        if run and sum(len(x) for x in run) + len(line) > limit:
            yield "\n".join(run)
            run = []
        run.append(line)
    if run:
        yield "\n".join(run)


def _has_blocks(element: Any) -> bool:
    block_like = _BLOCK_TAGS | {"h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "li"}
    return any(
        isinstance(child.tag, str) and child.tag in block_like
        for child in element.iter()
        if child is not element
    )


def chapter_blocks(root: Any) -> list[str]:
    """Return the blocks of a whole document (a book chapter): no main-article choice."""
    body = root.find(".//body")
    tree = body if body is not None else root
    for element in list(tree.iter("script", "style", "nav")):
        element.drop_tree()
    return list(_blocks(tree))


def _page_title(root: Any) -> str | None:
    """Return the page's ``<title>`` without a trailing site name ("通知_某某网")."""
    found = root.find(".//title")
    if found is None or not (found.text or "").strip():
        return None
    title = _SPACE.sub(" ", found.text).strip()
    first = _TITLE_SEPARATOR.split(title, maxsplit=1)[0].strip()
    return first if len(first) >= 4 else title


def html_source(text: str, name: str) -> Source:
    """Return the main article of a decoded web page as cutter text, with the page's title."""
    from lxml import html as lxml_html
    from lxml.etree import ParserError
    from readability import Document

    text = _XML_DECLARATION.sub("", text, count=1)  # lxml refuses one in decoded text
    if not text.strip():
        return Source("")  # lxml: "Document is empty"; the corpus says "has no text"
    try:
        root = lxml_html.document_fromstring(text)
    except (ParserError, ValueError) as exc:
        raise CorpusError(f"cannot read {name}: it is not a readable web page ({exc})") from exc
    title = _page_title(root)
    _strip_boilerplate(root)
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    for number, element in enumerate(elements):
        element.set(_ELEMENT_MARK, str(number))
    cleaned = lxml_html.tostring(root, encoding="unicode")
    try:
        article = Document(cleaned).summary(html_partial=True)
    except Exception:  # readability gives up on some pages: then the cleaned page is the article
        article = ""
    tree = lxml_html.fragment_fromstring(article or "<div></div>", create_parent="div")
    tree = _chosen_in_page(tree, elements)
    _strip_boilerplate(tree)
    kept = len(_SPACE.sub("", tree.text_content()))
    if kept < FOUND_TOO_LITTLE * len(_SPACE.sub("", root.text_content())):
        # Readability found (next to) nothing: read the page itself, without the boilerplate.
        tree = root.find("body") if root.find("body") is not None else root
    blocks = list(_blocks(tree))
    return Source("\n\n".join(blocks), title=title)


def _chosen_in_page(article: Any, elements: list[Any]) -> Any:
    """Return the page's own elements that readability chose, in a ``<div>``.

    Readability's summary is its cleaned copy of them: it drops lists and tables of under 25
    characters, and a Chinese list item (七十岁以上老人免费乘车) is often shorter than that.
    Its choice of container is good; its pruning inside the container is not ours to take.
    """
    from lxml import html as lxml_html

    chosen = {e.get(_ELEMENT_MARK) for e in article.iter() if isinstance(e.tag, str)}
    chosen.discard(None)
    box = lxml_html.fragment_fromstring("<div></div>")
    for element in elements:
        parent = element.getparent()
        if element.get(_ELEMENT_MARK) in chosen and (
            parent is None or parent.get(_ELEMENT_MARK) not in chosen
        ):
            copied = copy.deepcopy(element)
            copied.tail = None  # the text after it is not its own
            box.append(copied)
    return box if len(box) else article


@register(".html", ".htm")
def read_html(path: Path) -> Source:
    """Read the main article of a saved web page."""
    return html_source(decode_html(read_bytes(path), str(path)), str(path))
