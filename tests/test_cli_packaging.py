"""Tests for how qabot is packaged: every module and the bundled corpus, without warnings."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow  # builds a wheel, prepares the model (~5 s each)


def test_the_wheel_holds_every_package_and_the_corpus_and_builds_quietly(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v"]
        + ["-w", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    output = built.stdout + built.stderr
    assert "is absent from the `packages` configuration" not in output
    (wheel,) = tmp_path.glob("qabot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {p.parent.relative_to(REPO).as_posix() for p in REPO.glob("*/**/__init__.py")}
    for package in packages - {"tests", "tests/support"}:
        if package.startswith(("retrieval", "bot")):
            assert f"{package}/__init__.py" in names
    corpus = {p.relative_to(REPO).as_posix() for p in (REPO / "corpus").rglob("*") if p.is_file()}
    assert corpus and corpus <= names


def test_install_prepares_the_default_model_before_indexing(tmp_path: Path) -> None:
    dry = subprocess.run(
        ["make", "-n", "install"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert dry.index("-m retrieval.embed.prepare") < dry.index("qabot index")
    env = {**os.environ, "QABOT_HOME": str(tmp_path)}
    command = [sys.executable, "-m", "retrieval.embed.prepare"]
    first = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "models" / "intfloat__multilingual-e5-small"
    assert (folder / "modules.json").is_file() and (folder / "model.safetensors").is_file()
    assert "Preparing the default model" in first.stderr
    again = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and again.stderr == ""
    assert again.stdout == f"Default model ready: {folder}\n"


def test_make_setup_installs_what_every_test_needs_and_help_says_what_lint_runs() -> None:
    def make(*args: str) -> str:
        return subprocess.run(
            ["make", *args], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout

    assert "-e '.[test,milvus]'" in make("-n", "setup")  # test_milvus*.py run, not skipped
    lint = make("-n", "lint")
    help_text = make("help")
    assert "hadolint" in lint and "ruff, mypy and hadolint" in help_text
