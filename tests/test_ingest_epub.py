"""Tests for retrieval.ingest.epub: chapters in spine order, headings, the book's title."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from retrieval.errors import CorpusError
from retrieval.ingest.files import read_document

FORMATS = Path(__file__).resolve().parent / "data" / "formats"


def test_chapters_come_in_spine_order_with_their_headings() -> None:
    document = read_document(FORMATS / "handbook.epub", "handbook")
    assert document is not None and document.title == "城市生活手册"
    assert [(p.section, p.text) for p in document.paragraphs] == [
        ("第一章 供水", "全市日均供水量达到78万立方米,高峰日首次突破90万立方米。"),
        ("第一章 供水", "年底前完成剩余42公里老旧管网改造。"),
        ("第二章 图书馆 › 开放时间", "迎泽区图书馆暑期每天9时至21时开放,少儿阅览室开放至20时。"),
    ]


@pytest.mark.parametrize("source", ["not-a-zip.docx", "report.docx"])
def test_a_file_that_is_not_an_epub_is_refused(tmp_path: Path, source: str) -> None:
    fake = tmp_path / "book.epub"
    fake.write_bytes((FORMATS / source).read_bytes())  # not a zip; a zip without a package
    with pytest.raises(CorpusError, match=r"book\.epub: it is not a readable EPUB book"):
        read_document(fake, "book")


def _book(path: Path, chapters: dict[str, bytes], spine: list[str]) -> Path:
    """Write a minimal EPUB whose spine lists `spine` (hrefs) and whose zip holds `chapters`."""
    items = "".join(
        f'<item id="c{i}" href="{href}" media-type="application/xhtml+xml"/>'
        for i, href in enumerate(spine)
    )
    refs = "".join(f'<itemref idref="c{i}"/>' for i in range(len(spine)))
    package = (
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>小书</dc:title></metadata>'
        f"<manifest>{items}</manifest><spine>{refs}</spine></package>"
    )
    container = (
        '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0">'
        '<rootfiles><rootfile full-path="OEBPS/content.opf" '
        'media-type="application/oebps-package+xml"/></rootfiles></container>'
    )
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/epub+zip")
        book.writestr("META-INF/container.xml", container)
        book.writestr("OEBPS/content.opf", package)
        for name, data in chapters.items():
            book.writestr(f"OEBPS/{name}", data)
    return path


def _chapter(text: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>章</h1><p>{text}</p></body></html>'
    ).encode()


def test_empty_and_missing_chapters_are_skipped_and_the_rest_read(tmp_path: Path) -> None:
    book = _book(
        tmp_path / "book.epub",
        {"a.xhtml": b"", "b.xhtml": b"  \n ", "c.xhtml": _chapter("公园每日六点开放。")},
        ["a.xhtml", "b.xhtml", "gone.xhtml", "c.xhtml"],
    )
    document = read_document(book, "book")
    assert document is not None
    assert [p.text for p in document.paragraphs] == ["公园每日六点开放。"]


def test_percent_encoded_chapter_hrefs_are_read(tmp_path: Path) -> None:
    book = _book(
        tmp_path / "book.epub",
        {"chapter 1.xhtml": _chapter("学生卡半价。")},
        ["chapter%201.xhtml#start"],
    )
    document = read_document(book, "book")
    assert document is not None
    assert [p.text for p in document.paragraphs] == ["学生卡半价。"]
