"""Tests for how qabot is packaged: every module and the bundled corpus, without warnings."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow  # builds a wheel (~10 s)


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
