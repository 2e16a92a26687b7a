"""Tests for retrieval.ingest.html: the article alone, in any Chinese encoding, with headings."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.errors import CorpusError
from retrieval.ingest.files import read_document
from retrieval.ingest.html import decode_html, html_source

FORMATS = Path(__file__).resolve().parent / "data" / "formats"
TITLE = "迎泽区图书馆暑期开放时间调整"
HTTP_EQUIV = "text/html; charset=GB18030"
UNDECLARED = "太原供水集团通知,青年路明天停水,请居民提前储水。" * 4
BOILERPLATE = ["广告", "分享到", "网友", "版权所有", "首页", "相关阅读", "荷花节", "便民服务"]


def read(name: str) -> list:
    document = read_document(FORMATS / name, Path(name).stem)
    assert document is not None
    return list(document.paragraphs)


def test_gbk_page_gives_the_article_only_with_its_headings() -> None:
    document = read_document(FORMATS / "library-gbk.html", "library")
    assert document is not None and document.title == TITLE
    paragraphs = document.paragraphs
    texts = "\n".join(p.text for p in paragraphs)
    for word in BOILERPLATE:
        assert word not in texts, word
    by_start = {p.text[:6]: p for p in paragraphs}
    # The source line does not end a sentence, so the cutter keeps it with what follows.
    assert by_start["来源:迎泽区"].section == TITLE
    assert "为满足暑期读者阅读需求" in by_start["来源:迎泽区"].text
    assert by_start["馆内二层报告"].section == f"{TITLE} › 新增自习座位"
    assert "新增自习座位120个" in by_start["馆内二层报告"].text
    table = by_start["分馆 | 地"]
    assert table.section == f"{TITLE} › 各分馆开放时间"
    assert table.text.split("\n") == [
        "分馆 | 地址 | 开放时间",
        "柳巷分馆 | 柳巷南路18号 | 每天10时至18时",
        "桥东分馆 | 桥东街道社区服务中心三层 | 周二至周日9时至17时",
    ]
    items = [p for p in paragraphs if p.section.endswith("借阅须知")]
    assert "读者凭身份证或社保卡免押金办理借阅证。" in items[0].text
    assert all(p.page is None for p in paragraphs)


def test_big5_page_reads_in_traditional_characters() -> None:
    paragraphs = read("library-big5.htm")
    texts = "\n".join(p.text for p in paragraphs)
    assert "館內二層報告廳改造為臨時自習室" in texts
    assert "柳巷分館 | 柳巷南路18號 | 每天10時至18時" in texts
    assert "廣告" not in texts and "分享到" not in texts


def test_utf8_page_without_a_declared_charset() -> None:
    paragraphs = read("water-utf8.html")
    # The signature closes the first notice, so the second heading starts a new article.
    assert [p.section for p in paragraphs] == [
        "太原供水集团停水通知 › 停水通知(第1号)",
        "停水通知(第2号)",
    ]
    assert paragraphs[1].text.startswith("兹因配合供水管线阀门更换工程")
    assert ("signed", "太原供水集团有限公司") in paragraphs[1].meta


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ('<meta charset="gb2312"><p>青年路停水</p>'.encode("gbk"), "青年路停水"),
        ('<meta charset="GBK"><p>镕基</p>'.encode("gb18030"), "镕基"),  # beyond GB2312
        ("<meta charset=big5><p>青年路停水通知</p>".encode("big5"), "青年路停水通知"),
        ("<p>青年路停水</p>".encode("utf-8-sig"), "青年路停水"),
        (
            f"<meta http-equiv='Content-Type' content='{HTTP_EQUIV}'><p>停水</p>".encode("gb18030"),
            "停水",
        ),
        (f"<html><body><p>{UNDECLARED}</p>".encode("gbk"), UNDECLARED[:16]),  # detected
    ],
)
def test_encodings_declared_or_detected(data: bytes, text: str) -> None:
    assert text in decode_html(data, "page.html")


def test_binary_file_named_html_is_refused() -> None:
    with pytest.raises(CorpusError, match=r"binary\.html: it looks like a binary file"):
        read_document(FORMATS / "binary.html", "binary")


def test_an_xhtml_page_with_an_xml_declaration() -> None:
    declaration = '<?xml version="1.0" encoding="utf-8"?>'
    page = f"{declaration}\n<html><body><h1>通知</h1><p>青年路停水。</p></body></html>"
    assert html_source(page, "x.xhtml").text == "# 通知\n\n青年路停水。"


def test_a_page_of_markup_only_has_no_text() -> None:
    assert html_source("<html><nav><a href='/'>首页</a></nav></html>", "x.html").text == ""


def test_a_page_wrapped_in_one_form_or_a_boilerplate_name_keeps_its_article() -> None:
    body = "".join(f"<p>第{i}段:青年路8月31日停水,请提前储水。</p>" for i in range(8))
    wrapped = (
        "<html><head><title>停水</title></head><body><form id='aspnetForm'>"
        f"<div class='nav'><a href='/'>首页</a></div><div class='article ad-free'>{body}</div>"
        "<div class='footer'>版权所有</div></form></body></html>"
    )
    text = html_source(wrapped, "x.html").text
    assert text.startswith("第0段") and "第7段" in text
    assert "首页" not in text and "版权所有" not in text


ARTICLE = "本市公交集团宣布调整老年人和学生的乘车优惠政策，新政策自下月一日起施行。" * 3


def test_short_lists_and_tables_of_the_article_are_kept(tmp_path: Path) -> None:
    page = tmp_path / "bus.html"
    page.write_text(
        '<html><head><meta charset="utf-8"><title>公交优惠</title></head><body>'
        '<div class="nav"><ul><li>首页</li><li>新闻</li></ul></div>'
        f"<div id='main'><h1>公交优惠政策</h1><p>{ARTICLE}</p>"
        "<ul><li>七十岁以上老人免费乘车</li><li>学生卡半价</li></ul>"
        "<table><tr><td>月票</td><td>九十元</td></tr></table>"
        f"<p>{ARTICLE}</p></div>"
        "<div class='footer'>版权所有</div></body></html>",
        encoding="utf-8",
    )
    document = read_document(page, "bus")
    assert document is not None
    texts = "\n".join(p.text for p in document.paragraphs)
    for kept in ("七十岁以上老人免费乘车", "学生卡半价", "月票 | 九十元"):
        assert kept in texts
    for dropped in ("首页", "版权所有"):
        assert dropped not in texts


@pytest.mark.parametrize("declared", ["utf-16", "UTF-16LE", "utf-32"])
def test_a_utf16_declaration_without_a_bom_means_utf8(declared: str) -> None:
    data = f'<html><head><meta charset="{declared}"></head><body><p>学生卡半价</p>'.encode()
    assert "学生卡半价" in decode_html(data, "page.html")
