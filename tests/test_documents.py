"""Tests for retrieval.ingest.documents: the seed page parsed the way a careful reader would."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from retrieval.errors import CorpusError
from retrieval.ingest import (
    SECTION_SEP,
    corpus_hash,
    find_corpus_files,
    load_documents,
    parse_text,
)
from retrieval.ingest.cutter import MAX_PARAGRAPH_CHARS, cut_long
from retrieval.ingest.text import read_text
from tests.conftest import SEED

DOC = "shanxi-taiyuan-news-2023-08-30"
LEAD = "我省落实今年12件民生实事成效显著"


@pytest.fixture(scope="module")
def seed() -> list:
    return parse_text(SEED.read_text(encoding="utf-8"), DOC)


def by_number(paragraphs: list, number: int):
    (found,) = [p for p in paragraphs if p.number == number]
    return found


def test_seed_paragraph_count_and_numbering(seed: list) -> None:
    assert len(seed) == 50
    assert [p.number for p in seed] == list(range(1, 51))
    assert {p.doc for p in seed} == {DOC}


def test_numbers_are_stable_across_rebuilds(seed: list) -> None:
    again = parse_text(SEED.read_text(encoding="utf-8"), DOC)
    assert [(p.number, p.section, p.text) for p in again] == [
        (p.number, p.section, p.text) for p in seed
    ]


@pytest.mark.parametrize(
    ("number", "joined"),
    [
        (16, "调动近300个文艺团赴农村开展免费演出。"),
        (37, "按照省与市县财政事权和支出责任,省级财政安排12.2亿元"),
        (39, "补助标准和补助方式,保持民生支出与我省经济发展水平"),
        (44, "积极探索人才、科技与产业深度融合的发展模式,为小店区"),
    ],
)
def test_paragraphs_broken_by_print_layout_are_rejoined(
    seed: list, number: int, joined: str
) -> None:
    assert joined in by_number(seed, number).text


def test_no_paragraph_is_a_stray_fragment(seed: list) -> None:
    texts = [p.text for p in seed]
    assert "艺团赴农村开展免费演出。" not in texts
    assert all(not t.startswith(("出责任", "发展模式", "保持民生支出")) for t in texts)


@pytest.mark.parametrize(
    ("number", "section"),
    [
        (1, LEAD),
        (2, f"{LEAD}{SECTION_SEP}快递进村走出“山西路径”"),
        (13, f"{LEAD}{SECTION_SEP}零工市场实现“县县全覆盖”"),
        (16, f"{LEAD}{SECTION_SEP}免费送戏下乡进村超万场"),
        (25, f"{LEAD}{SECTION_SEP}人群密集公共场所增配AED"),
        (26, "市十五届人大常委会第十一次会议举行"),
        (28, "聚三晋 话乡情 谋发展"),
        (30, f"聚三晋 话乡情 谋发展{SECTION_SEP}启未来之门"),
        (36, "今年民生支出已达2695.9亿元"),
        (43, "人民网报道小店区“人才强区”战略"),
        (46, "太原市人民政府关于收回平阳路西一巷棚户区改造项目部分国有土地使用权的通告"),
        (48, DOC),
        (49, "停水通知 (1)"),
        (50, "停水通知 (2)"),
    ],
)
def test_section_paths(seed: list, number: int, section: str) -> None:
    assert by_number(seed, number).section == section


def test_headings_are_sections_never_answers(seed: list) -> None:
    texts = {p.text for p in seed}
    assert "停水通知" not in texts
    assert not any(t.startswith(("#", "◆")) for t in texts)


def test_two_water_notices_are_distinct_sections(seed: list) -> None:
    first, second = by_number(seed, 49), by_number(seed, 50)
    assert first.section != second.section
    assert "迎泽大街路南(金阳南路—春居南路)" in first.text
    assert "青年路(迎泽大街—邮电后街)" in second.text
    # the street list stays with the times it belongs to
    assert "2023年8月31日20时—2023年9月1日8时" in second.text
    assert ("signed", "太原供水集团有限公司") in second.meta
    assert ("date", "2023年8月29日") in second.meta
    assert "太原供水集团有限公司" in second.index_text


@pytest.mark.parametrize(
    ("number", "key", "value"),
    [
        (1, "byline", "记者 尹哲"),
        (25, "byline", "记者 尹哲"),
        (1, "deck", "省政府新闻办发布会"),
        (27, "byline", "李俊华"),
        (26, "mark", "(上接第1版)"),
        (28, "mark", "(上接第1版)"),
        (35, "byline", "记者 李静"),
        (42, "byline", "尹哲"),
        (45, "byline", "李晓井"),
        (47, "signed", "太原市人民政府"),
        (47, "date", "2023年8月30日"),
    ],
)
def test_bylines_marks_and_signatures_are_metadata(
    seed: list, number: int, key: str, value: str
) -> None:
    assert (key, value) in by_number(seed, number).meta


def test_bylines_and_marks_are_not_served_as_text(seed: list) -> None:
    for p in seed:
        assert p.text not in ("记者 尹哲", "(李晓井)", "(上接第1版)", "太原市人民政府")
        assert "(上接第1版)" not in p.text
        assert not p.text.endswith(("(李俊华)", "(尹哲)"))


def test_short_lines_stay_with_their_paragraph(seed: list) -> None:
    notice = by_number(seed, 47)
    assert notice.text.startswith("望上述单位及住户")
    assert "特此通告\n联系电话:(0351)3586630" in notice.text
    assert "注:总面积4237.34平方米" in notice.text
    assert by_number(seed, 46).text.startswith("各有关单位及住户:\n为实施太原市城市规划")


def test_stray_caption_gets_the_document_as_its_section(seed: list) -> None:
    caption = by_number(seed, 48)
    assert caption.text.startswith("八月二十九日晚")
    assert caption.section == DOC
    # the file name is shown as its section, but is no evidence of what the text is about
    assert caption.index_text == caption.text
    assert by_number(seed, 49).index_text.startswith("停水通知 (1)\n")


def test_preamble_without_heading_gets_the_document_title() -> None:
    paragraphs = parse_text("这是一段没有标题的前言。\n\n# 标题\n\n正文一段。\n", "note", "笔记")
    assert [(p.section, p.text) for p in paragraphs] == [
        ("笔记", "这是一段没有标题的前言。"),
        ("标题", "正文一段。"),
    ]


def test_text_without_headings_and_latin_line_breaks() -> None:
    text = "The water supply stops on Friday\n\nat 8 pm in Youth Road.\n\nA second paragraph.\n"
    paragraphs = parse_text(text, "en")
    assert [p.text for p in paragraphs] == [
        "The water supply stops on Friday at 8 pm in Youth Road.",
        "A second paragraph.",
    ]


def test_a_plain_text_file_has_a_paragraph_a_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text(
        "北京市今年新建公园30个。\n上海市9月1日停水，\n涉及徐汇区。\n广州市新增地铁线路3条。\n",
        encoding="utf-8",
    )
    (tmp_path / "notes.md").write_text("北京市今年新建公园30个。\n上海市9月1日停水。\n", "utf-8")
    documents, _ = load_documents([tmp_path / "notes.txt", tmp_path / "notes.md"])
    by_file = {d.path.suffix: [p.text for p in d.paragraphs] for d in documents}
    # A line ending a sentence ends its paragraph; one that does not goes on in the next.
    assert by_file[".txt"] == [
        "北京市今年新建公园30个。",
        "上海市9月1日停水，\n涉及徐汇区。",
        "广州市新增地铁线路3条。",
    ]
    # Markdown keeps its own rule: lines without a blank line between are one paragraph.
    assert by_file[".md"] == ["北京市今年新建公园30个。\n上海市9月1日停水。"]


def test_plain_text_wrapped_at_a_width_keeps_its_lines_together() -> None:
    wrapped = (
        "We met Mr.\nSmith at the station, who told us the water would stop on\n"
        "Friday. The notice came late\nand nobody was ready for it, so the\n"
        "shops ran out of bottled water.\n\nSecond paragraph.\n"
    )
    paragraphs = parse_text(wrapped, "en", line_paragraphs=True)
    # Most lines end mid-sentence: blank lines end paragraphs, not `Mr.` or `Friday.`
    assert [p.text.split()[:2] for p in paragraphs] == [["We", "met"], ["Second", "paragraph."]]


def test_a_paragraph_too_long_is_cut_at_sentence_ends() -> None:
    sentence = "青年路实施停水，请用户提前做好储水准备。"  # 20 characters
    text = sentence * 200 + "\n\n" + "第二段。"
    paragraphs = parse_text(text, "long")
    pieces = [p.text for p in paragraphs]
    assert all(len(t) <= MAX_PARAGRAPH_CHARS for t in pieces)
    assert all(t.endswith("。") for t in pieces)  # cut where a sentence ends, none lost
    assert "".join(pieces[:-1]) == sentence * 200 and pieces[-1] == "第二段。"
    assert [p.number for p in paragraphs] == list(range(1, len(pieces) + 1))
    # Without any sentence end or space: cut at the limit, nothing lost.
    assert [len(t) for t in cut_long("停" * 3500)] == [1500, 1500, 500]
    assert cut_long("短。") == ["短。"]
    # A sentence end early in the window beats a cut mid-word; a lone mark past the limit
    # joins the passage before rather than make one of its own.
    assert [len(t) for t in cut_long("停" * 100 + "。" + "水" * 2000)] == [101, 1500, 500]
    assert cut_long("停" * 1500 + "。") == ["停" * 1500 + "。"]
    # English sentences end at a full stop before a space.
    english = cut_long("The price is fixed per ton. " * 80)
    assert all(piece.endswith("per ton.") for piece in english)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("停水通知：青年路明天停水。", "gb18030"),
        ("博物館每週二免費開放。", "big5"),  # also decodes as GB18030, into other characters
        ("太原市", "gb18030"),  # also decodes as Big5: 怮埻庈
        ("会议", "gb18030"),
        ("太原市政府公告\n各有關單位及住戶：", "big5"),
        ("游乐场的门票是五十元。", "utf-16"),  # Windows Notepad's "Unicode": UTF-16 LE, a mark
        ("游乐场的门票是五十元。", "utf-8-sig"),
        ("游乐场的门票是五十元。", "utf-32"),
    ],
)
def test_chinese_text_is_read_in_its_encoding(tmp_path: Path, text: str, encoding: str) -> None:
    path = tmp_path / "notice.txt"
    path.write_bytes(text.encode(encoding))
    assert read_text(path) == text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01\x02binary", "looks like a binary file"),
        (b"\xfa\xfb\xff\xfe" * 3 + b"\x80", "neither UTF-8, GB18030 nor Big5"),
        (b"\xff\xfe\x00\xd8", "looks like a binary file"),  # a UTF-16 mark, then no text
    ],
)
def test_unreadable_files_are_explained(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=message):
        read_text(path)


def test_folder_skips_bad_files_but_named_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("# 标题\n\n正文。\n", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\x00\x00")
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    documents, warnings = load_documents([tmp_path])
    assert [d.doc for d in documents] == ["good"]
    assert any("bad.txt" in w for w in warnings) and any("empty.txt" in w for w in warnings)
    with pytest.raises(CorpusError, match="binary"):
        load_documents([tmp_path / "bad.txt"])


def test_links_and_pipes_are_skipped_with_a_line_or_refused_when_named(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("# 标题\n\n正文。\n", encoding="utf-8")
    (tmp_path / "broken.md").symlink_to(tmp_path / "gone.md")
    os.mkfifo(tmp_path / "pipe.md")
    documents, warnings = load_documents([tmp_path])
    assert [d.doc for d in documents] == ["good"]
    assert sorted(warnings) == [
        "skipped broken.md: not a file (a broken link, a pipe or a device)",
        "skipped pipe.md: not a file (a broken link, a pipe or a device)",
    ]
    for name in ("broken.md", "pipe.md"):
        with pytest.raises(CorpusError, match="is neither a file nor a folder"):
            load_documents([tmp_path / name])


def test_missing_and_empty_corpus_paths(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        find_corpus_files([tmp_path / "nope"])
    with pytest.raises(CorpusError, match="no corpus files"):
        find_corpus_files([tmp_path])


def test_same_stem_in_two_folders_gets_distinct_ids(tmp_path: Path) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "news.md").write_text(f"{sub} 正文。\n", encoding="utf-8")
    documents, _ = load_documents([tmp_path])
    assert sorted(d.doc for d in documents) == ["a/news", "b/news"]


def test_corpus_hash_follows_content(tmp_path: Path) -> None:
    path = tmp_path / "doc.md"
    path.write_text("正文。\n", encoding="utf-8")
    before = corpus_hash(load_documents([tmp_path])[0])
    assert corpus_hash(load_documents([tmp_path])[0]) == before
    path.write_text("正文改了。\n", encoding="utf-8")
    assert corpus_hash(load_documents([tmp_path])[0]) != before


@pytest.mark.parametrize("fence", ["```", "~~~~"])
def test_hash_lines_in_a_code_fence_are_text_not_headings(fence: str) -> None:
    text = (
        "# 安装指南\n\n## 第一步\n\n运行下面的命令安装。\n\n"
        f"{fence}bash\n# 安装依赖\npip install qabot\n\n## 不是标题\n{fence}\n\n"
        "安装完成后重启终端。\n"
    )
    paragraphs = parse_text(text, "guide", fences=True)
    sections = {p.text: p.section for p in paragraphs}
    step = SECTION_SEP.join(["安装指南", "第一步"])
    assert sections["安装完成后重启终端。"] == step
    (code,) = [p for p in paragraphs if "pip install qabot" in p.text]
    assert code.section == step and "# 安装依赖" in code.text and "## 不是标题" in code.text


@pytest.mark.parametrize("fences", [True, False])
def test_a_fence_that_never_closes_is_no_fence(fences: bool) -> None:
    # A ~~~~ separator in a text or Word file, or a stray ``` in Markdown, must not swallow
    # the rest of the document into one block.
    text = (
        "# 通知\n\n青年路明天停水。\n\n~~~~~~~~~~~~\n\n## 第二章\n\n解放路后天停电。\n\n"
        "公交车改线运行。\n"
    )
    paragraphs = parse_text(text, "notice", fences=fences)
    assert {p.text: p.section for p in paragraphs}["解放路后天停电。"].endswith("第二章")
    assert "公交车改线运行。" in [p.text for p in paragraphs]


def test_only_markdown_reads_fences(tmp_path: Path) -> None:
    text = "# 手册\n\n```\n# 注释\n```\n\n正文在这里。\n"
    (tmp_path / "a.md").write_text(text, encoding="utf-8")
    (tmp_path / "b.txt").write_text(text + "\n另一份。\n", encoding="utf-8")  # not a copy
    documents, _ = load_documents([tmp_path])
    md, txt = sorted(documents, key=lambda d: d.doc)
    assert "注释" not in {p.section.split(SECTION_SEP)[-1] for p in md.paragraphs}
    assert "注释" in {p.section.split(SECTION_SEP)[-1] for p in txt.paragraphs}
