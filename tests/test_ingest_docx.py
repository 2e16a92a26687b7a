"""Tests for retrieval.ingest.docx: headings by style, paragraphs and table rows; no notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.errors import CorpusError
from retrieval.ingest.files import read_document

FORMATS = Path(__file__).resolve().parent / "data" / "formats"
TITLE = "桥东街道上半年社区服务工作报告"


@pytest.fixture(scope="module")
def paragraphs() -> list:
    document = read_document(FORMATS / "report.docx", "report")
    assert document is not None and document.title == TITLE
    return list(document.paragraphs)


def test_headings_become_sections(paragraphs: list) -> None:
    assert [(p.number, p.section) for p in paragraphs] == [
        (1, TITLE),
        (2, f"{TITLE} › 社区食堂"),
        (3, f"{TITLE} › 口袋公园"),
        (4, f"{TITLE} › 口袋公园"),
        (5, "下半年计划"),
    ]
    assert paragraphs[1].text == (
        "三处社区食堂每天为辖区老人提供午餐约460份,70岁以上老人每餐优惠3元,"
        "行动不便的老人可预约送餐上门。"
    )


def test_table_rows_come_through_in_order(paragraphs: list) -> None:
    assert paragraphs[3].text.split("\n") == [
        "公园 | 面积 | 完工时间",
        "朝阳街口袋公园 | 1200平方米 | 2023年4月",
        "双塔寺口袋公园 | 860平方米 | 2023年6月",
    ]


def test_footnotes_and_headers_are_left_out(paragraphs: list) -> None:
    texts = "\n".join(p.text for p in paragraphs)
    assert "脚注" not in texts and "统计台账" not in texts
    assert "内部资料" not in texts
    assert all(p.page is None for p in paragraphs)


def test_a_docx_that_is_not_a_zip_is_refused() -> None:
    with pytest.raises(CorpusError, match=r"not-a-zip\.docx: it is not a readable Word file"):
        read_document(FORMATS / "not-a-zip.docx", "x")
