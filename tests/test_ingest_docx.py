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


def test_content_controls_tracked_insertions_and_nested_tables_are_read(tmp_path: Path) -> None:
    from docx import Document
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = Document()
    body = document.element.body
    sdt = parse_xml(
        f"<w:sdt {nsdecls('w')}><w:sdtContent><w:p><w:r><w:t>控件里的正文。</w:t></w:r></w:p>"
        "</w:sdtContent></w:sdt>"
    )
    changed = parse_xml(
        f"<w:p {nsdecls('w')}><w:r><w:t>票价</w:t></w:r>"
        '<w:ins w:id="1" w:author="a"><w:r><w:t>二十元</w:t></w:r></w:ins>'
        '<w:del w:id="2" w:author="a"><w:r><w:delText>十元</w:delText></w:r></w:del>'
        "<w:r><w:t>。</w:t></w:r></w:p>"
    )
    phone = parse_xml(  # a non-breaking hyphen (Ctrl+Shift+-), as in a typed phone number
        f"<w:p {nsdecls('w')}><w:r><w:t>咨询电话0351</w:t><w:noBreakHyphen/>"
        "<w:t>4040123。</w:t></w:r></w:p>"
    )
    body.insert(0, phone)
    body.insert(0, changed)
    body.insert(0, sdt)
    outer = document.add_table(rows=1, cols=2)
    outer.cell(0, 0).text = "外层"
    inner = outer.cell(0, 1).add_table(rows=1, cols=1)
    inner.cell(0, 0).text = "嵌套表格的内容"
    path = tmp_path / "changes.docx"
    document.save(str(path))

    read = read_document(path, "changes")
    assert read is not None
    texts = "\n".join(p.text for p in read.paragraphs)
    assert "控件里的正文。" in texts
    assert "票价二十元。" in texts and "十元。" not in texts.replace("二十元。", "")
    assert "外层" in texts and "嵌套表格的内容" in texts
    assert "咨询电话0351-4040123。" in texts
