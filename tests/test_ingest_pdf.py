"""Tests for retrieval.ingest.pdf: a multi-column newspaper and a paged report read in order."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import numpy as np
import pytest

from retrieval.errors import CorpusError
from retrieval.ingest import load_documents, parse_text
from retrieval.ingest.files import read_document
from retrieval.store.index import build_index
from tests.conftest import SEED, FakeEncoder

FORMATS = Path(__file__).resolve().parent / "data" / "formats"
LEAD = "我省落实今年12件民生实事成效显著"
SONGXI = (
    "“免费送戏下乡进村”惠民工程自2017年启动以来,送戏总数已突破10万场。今年,我省决定全年免费送戏"
    "1万场。省、市、县三级投入经费上亿元,调动近300个文艺团赴农村开展免费演出。"
)


@pytest.fixture(scope="module")
def newspaper() -> list:
    document = read_document(FORMATS / "newspaper.pdf", "newspaper")
    assert document is not None
    return list(document.paragraphs)


@pytest.fixture(scope="module")
def report() -> list:
    document = read_document(FORMATS / "report.pdf", "report")
    assert document is not None
    return list(document.paragraphs)


def test_newspaper_paragraphs_come_out_whole_and_in_order(newspaper: list) -> None:
    # The target is 98% of the Markdown page's paragraphs, whole and in reading order.
    markdown = parse_text(SEED.read_text(encoding="utf-8"), "newspaper")
    want, got = [p.text for p in markdown], [p.text for p in newspaper]
    matcher = difflib.SequenceMatcher(a=want, b=got, autojunk=False)
    in_order = sum(block.size for block in matcher.get_matching_blocks())
    assert in_order / len(want) >= 0.98, (in_order, len(want))
    sections = {p.text: p.section for p in markdown}
    same = [p for p in newspaper if sections.get(p.text) == p.section]
    assert len(same) / len(want) >= 0.98


def test_newspaper_pages_headings_and_no_running_heads(newspaper: list) -> None:
    (songxi,) = [p for p in newspaper if p.text == SONGXI]
    assert songxi.page == 1
    assert songxi.section == f"{LEAD} › 免费送戏下乡进村超万场"
    assert ("deck", "省政府新闻办发布会") in songxi.meta  # the kicker above the headline
    (water,) = [p for p in newspaper if p.text.startswith("兹因配合供水管线阀门更换工程")]
    assert (water.page, water.section) == (2, "停水通知 (2)")
    assert ("date", "2023年8月29日") in water.meta
    assert [p.page for p in newspaper] == sorted(p.page for p in newspaper)
    assert {p.page for p in newspaper} == {1, 2}
    for p in newspaper:
        assert "山西日报" not in p.text and "第1版" not in p.text and "— 2 —" not in p.text


def test_report_pages_sections_and_footers(report: list) -> None:
    assert [(p.page, p.section.split(" › ")[-1]) for p in report] == [
        (1, "一、总体情况"),
        (1, "一、总体情况"),
        (2, "二、停水检修安排"),
        (2, "二、停水检修安排"),
        (3, "三、下一步工作"),
        (3, "三、下一步工作"),
    ]
    assert report[0].section == "城市供水保障工作简报 › 一、总体情况"
    assert report[0].text.startswith("今年以来,市供水集团围绕保供水、保安全、优服务三项重点")
    assert report[0].text.endswith("居民用水投诉量同比减少三成。")
    for p in report:
        assert "共 3 页" not in p.text and "工作简报 2023年第8期" not in p.text


def test_justified_english_in_two_columns() -> None:
    document = read_document(FORMATS / "english.pdf", "english")
    assert document is not None
    paragraphs = document.paragraphs
    assert [(p.section.split(" › ")[-1], p.text[:24]) for p in paragraphs] == [
        ("Summary", "Since January the city w"),
        ("Summary", "Daily supply averaged 78"),
        ("Planned interruptions", "Customers are told of ev"),
        ("Planned interruptions", "During the summer peak, "),
    ]
    assert paragraphs[0].section == "Water Supply Bulletin › Summary"
    assert "built four pumping stations and cut the share of water lost from the network" in (
        paragraphs[0].text
    )
    assert paragraphs[2].text.endswith("must be sent to fixed points in the affected compounds.")
    assert all("  " not in p.text and "Page 1" not in p.text for p in paragraphs)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("scanned.pdf", "it has no text layer (a scanned PDF?) and qabot does no OCR"),
        ("encrypted.pdf", "it is encrypted (it opens only with a password)"),
        ("truncated.pdf", "it is not a readable PDF (damaged or truncated)"),
    ],
)
def test_unreadable_pdfs_say_why_in_one_line(name: str, reason: str) -> None:
    with pytest.raises(CorpusError) as caught:
        read_document(FORMATS / name, "x")
    message = str(caught.value)
    assert message.startswith(f"cannot read {FORMATS / name}: ") and reason in message
    assert "\n" not in message


class CountingEncoder(FakeEncoder):
    def __init__(self) -> None:
        self.embedded = 0

    def encode_passages(self, texts, progress: bool = False):  # type: ignore[no-untyped-def]
        self.embedded += len(texts)
        return super().encode_passages(texts, progress)


def test_changing_one_pdf_reembeds_only_its_changed_paragraph(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    shutil.copy(FORMATS / "report.pdf", corpus / "report.pdf")
    encoder = CountingEncoder()
    index = build_index(tmp_path / "idx", load_documents([corpus])[0], encoder, print, False)
    assert encoder.embedded == index.manifest.count == 56
    shutil.copy(FORMATS / "report-v2.pdf", corpus / "report.pdf")
    encoder.embedded = 0
    index = build_index(tmp_path / "idx", load_documents([corpus])[0], encoder, print, False)
    assert encoder.embedded == 1
    changed = [p for p in index.paragraphs if "88公里" in p.text]
    assert [(p.doc, p.page) for p in changed] == [("report", 1)]
    fresh = FakeEncoder().encode_passages([p.index_text for p in index.paragraphs])
    stored = np.vstack([index.vectors.index.reconstruct(i) for i in range(index.manifest.count)])
    assert np.allclose(stored, fresh, atol=1e-6)
