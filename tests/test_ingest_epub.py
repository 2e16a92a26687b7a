"""Tests for retrieval.ingest.epub: chapters in spine order, headings, the book's title."""

from __future__ import annotations

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
