"""Tests for retrieval.store.paragraphs: rows read from .npy files on demand, paragraphs by row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.store.paragraphs import StoredRows


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, np.ndarray]:
    matrix = np.random.default_rng(3).standard_normal((257, 12)).astype(np.float32)
    path = tmp_path / "m.npy"
    np.save(path, matrix, allow_pickle=False)
    return path, matrix


def test_rows_are_those_of_the_saved_array_in_the_order_asked(
    saved: tuple[Path, np.ndarray],
) -> None:
    path, matrix = saved
    rows = StoredRows(path)
    assert len(rows) == 257 and rows.shape == (257, 12)
    wanted = [256, 0, 17, 17, 3]
    assert np.array_equal(rows[wanted], matrix[wanted])
    assert np.array_equal(rows[np.array([5, 4])], matrix[[5, 4]])
    assert rows[[]].shape == (0, 12)


def test_row_out_of_range_is_an_index_error(saved: tuple[Path, np.ndarray]) -> None:
    rows = StoredRows(saved[0])
    with pytest.raises(IndexError, match="out of range"):
        rows[[257]]
    with pytest.raises(IndexError):
        rows[[-1]]


def test_truncated_file_is_refused_on_open(saved: tuple[Path, np.ndarray]) -> None:
    path, _ = saved
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ValueError, match="bytes, not"):
        StoredRows(path)


@pytest.mark.parametrize(
    "array",
    [np.zeros(5, dtype=np.float32), np.array([["a", "b"]], dtype=object)],
    ids=["one-dimensional", "objects"],
)
def test_what_is_not_a_matrix_of_numbers_is_refused(tmp_path: Path, array: np.ndarray) -> None:
    path = tmp_path / "x.npy"
    np.save(path, array, allow_pickle=True)
    with pytest.raises(ValueError, match="not a 2-D array of numbers"):
        StoredRows(path)


def test_garbage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.npy"
    path.write_bytes(b"not an array at all")
    with pytest.raises(ValueError):
        StoredRows(path)
