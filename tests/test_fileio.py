"""Tests for retrieval.fileio: folders flushed to disk and put in place in one rename."""

from __future__ import annotations

from pathlib import Path

from retrieval.fileio import fsync_tree, replace_dir


def make_folder(path: Path, text: str) -> Path:
    (path / "sub").mkdir(parents=True)
    (path / "a.txt").write_text(text, encoding="utf-8")
    (path / "sub" / "b.txt").write_text(text, encoding="utf-8")
    return path


def test_fsync_tree_reads_every_file(tmp_path: Path) -> None:
    fsync_tree(make_folder(tmp_path / "f", "x"))  # no error on files, sub-folders, the folder


def test_replace_dir_puts_the_new_folder_in_place(tmp_path: Path) -> None:
    dest = make_folder(tmp_path / "dest", "old")
    replace_dir(make_folder(tmp_path / ".dest.tmp", "new"), dest)
    assert (dest / "sub" / "b.txt").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest"]  # nothing left beside it


def test_replace_dir_where_there_was_none(tmp_path: Path) -> None:
    replace_dir(make_folder(tmp_path / ".dest.tmp", "new"), tmp_path / "dest")
    assert (tmp_path / "dest" / "a.txt").read_text(encoding="utf-8") == "new"
