"""Tests for progress while qabot works: a bar on a terminal, plain lines in a log, Ctrl-C."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrieval.progress import bars_wanted, progress_bar, say_nothing, say_on_stderr
from tests.conftest import REPO
from tests.test_chat import Terminal


def test_no_bar_unless_asked(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar(10, "Embedding", shown=False) as advance:
        advance(10)
    assert capsys.readouterr().err == ""


def test_bars_only_when_lines_go_to_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a log file, a pipe: not a terminal
    assert not bars_wanted(say_on_stderr)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    assert bars_wanted(say_on_stderr)
    assert not bars_wanted(say_nothing)  # the front end keeps the lines: no bar either


@pytest.mark.slow
def test_a_log_gets_one_line_per_stage(tmp_path: Path) -> None:
    log = tmp_path / "qabot.log"
    with log.open("w") as stderr:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli.main", "index"],
            cwd=REPO,
            env={**os.environ, "QABOT_HOME": str(tmp_path / "home")},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            check=False,
            timeout=300,
        )
    assert done.returncode == 0
    text = log.read_text(encoding="utf-8")
    assert "\r" not in text and "Batches" not in text and "Embedding:" not in text
    assert text.splitlines() == [
        "Embedding 50 of 50 paragraphs with intfloat/multilingual-e5-small...",
        text.splitlines()[-1],
    ]
    assert text.splitlines()[-1].startswith("Indexed 50 paragraphs from 1 document(s) in ")


@pytest.mark.slow
def test_a_terminal_gets_a_bar_and_ctrl_c_acts_within_a_second(tmp_path: Path) -> None:
    home = tmp_path / "home"
    build = Terminal("index", env={"QABOT_HOME": str(home)})
    build.expect("Embedding 50 of 50 paragraphs")
    build.expect(r"Embedding: +\d+%.*\| *[1-9]\d*/50")  # the bar moves
    build.type("\x03")
    pressed = time.monotonic()
    status = build.exit_status()
    took = time.monotonic() - pressed
    assert status == 130 and "interrupted" in build.seen
    assert took < 1.0, f"Ctrl-C took {took:.2f} s"
    assert not list((home / "indexes").glob("*/manifest.json"))  # no partial index
