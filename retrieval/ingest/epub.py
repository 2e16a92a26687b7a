"""The reader of EPUB books: the chapters in spine order, read as web pages are.

An EPUB is a zip of XHTML chapters listed by its package file (OPF); the zip module and lxml
read it (ebooklib, the usual library, is AGPL). Each chapter's body goes through the web
page reader's walk, without the main-article choice: a book's chapters are all text.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from retrieval.errors import CorpusError
from retrieval.ingest.html import chapter_blocks
from retrieval.ingest.readers import Source, register
from retrieval.ingest.text import read_bytes

_CONTAINER = "META-INF/container.xml"


def _package(book: zipfile.ZipFile) -> tuple[str, Any]:
    """Return the package file's path and parsed tree."""
    from lxml import etree

    container = etree.fromstring(book.read(_CONTAINER))
    rootfile = container.find(".//{*}rootfile")
    if rootfile is None or not rootfile.get("full-path"):
        raise KeyError("rootfile")
    path = rootfile.get("full-path")
    return path, etree.fromstring(book.read(path))


def epub_source(data: bytes, name: str) -> Source:
    """Return an EPUB's chapters as cutter text, with the book's title."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        opf_path, package = _package(book)
        base = posixpath.dirname(opf_path)
        items = {
            item.get("id"): item.get("href") for item in package.iterfind(".//{*}manifest/{*}item")
        }
        spine = [
            items[ref.get("idref")]
            for ref in package.iterfind(".//{*}spine/{*}itemref")
            if ref.get("idref") in items and ref.get("linear") != "no"
        ]
        title_element = package.find(".//{*}metadata/{*}title")
        blocks: list[str] = []
        for href in spine:
            # An href is a URL: Calibre and Sigil write `chapter%201.xhtml` for `chapter 1.xhtml`.
            entry = posixpath.normpath(posixpath.join(base, unquote(href.split("#")[0])))
            try:
                chapter = book.read(entry)
            except KeyError:  # a chapter missing from the zip: the others are still the book
                continue
            if not chapter.strip():
                continue
            try:
                root = lxml_html.document_fromstring(chapter)
            except etree.ParserError:  # "Document is empty": a chapter of only markup or space
                continue
            blocks += chapter_blocks(root)
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, ValueError) as exc:
        raise CorpusError(f"cannot read {name}: it is not a readable EPUB book") from exc
    title = (title_element.text or "").strip() if title_element is not None else ""
    return Source("\n\n".join(blocks), title=title or None)


@register(".epub")
def read_epub(path: Path) -> Source:
    """Read an EPUB book's chapters in reading order."""
    return epub_source(read_bytes(path), str(path))
