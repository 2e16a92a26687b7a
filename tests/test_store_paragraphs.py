"""Tests for retrieval.store.paragraphs: rows read on demand, paragraphs by row, one cache."""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from retrieval.ingest import Paragraph
from retrieval.store.paragraphs import (
    CACHE_ROWS,
    ParagraphCache,
    ParagraphStore,
    StoredRows,
    paragraph_from_record,
    paragraph_record,
    write_paragraphs,
)


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


def paragraph(row: int) -> Paragraph:
    """The paragraph stored at `row` in the tests' stores: every field says which row it is."""
    return Paragraph(
        f"doc{row // 100}",
        row % 100 + 1,
        f"第{row}节",
        f"第{row}段：青年路停水。",
        (("date", f"2023-{row % 12 + 1:02d}-01"),),
        page=row // 10 if row % 3 else None,
    )


@pytest.mark.parametrize("p", [paragraph(0), paragraph(1), Paragraph("d", 1, "s", "t")])
def test_a_record_round_trips(p: Paragraph) -> None:
    record = paragraph_record(p)
    assert ("page" in record) == (p.page is not None)
    assert paragraph_from_record(record) == p


@pytest.fixture
def big_store(tmp_path: Path) -> Path:
    """An index directory with more paragraphs than the cache holds."""
    assert write_paragraphs(tmp_path, (paragraph(i) for i in range(CACHE_ROWS + 1500))) > (
        CACHE_ROWS
    )
    return tmp_path


def test_paragraphs_by_row_slice_and_pass(big_store: Path) -> None:
    store = ParagraphStore(big_store)
    assert len(store) == CACHE_ROWS + 1500
    assert store[0] == paragraph(0) and store[-1] == paragraph(len(store) - 1)
    assert store[10:13] == [paragraph(10), paragraph(11), paragraph(12)]
    assert list(store) == [paragraph(i) for i in range(len(store))]
    with pytest.raises(IndexError):
        store[len(store)]


def test_the_cache_keeps_the_most_recently_used_rows() -> None:
    cache = ParagraphCache(rows=3)
    cache.put({0: paragraph(0), 1: paragraph(1), 2: paragraph(2)})
    assert cache.get([0]) == {0: paragraph(0)}  # 0 is now the most recent
    cache.put({3: paragraph(3)})
    assert len(cache) == 3
    assert cache.get([0, 1, 2, 3]) == {0: paragraph(0), 2: paragraph(2), 3: paragraph(3)}


@pytest.fixture
def busy_threads() -> Iterator[None]:
    """Switch threads as often as the interpreter can, so that races show up."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


@pytest.mark.parametrize("cache_rows", [CACHE_ROWS, 64], ids=["default-cache", "small-cache"])
def test_many_threads_read_the_right_paragraphs(
    big_store: Path, busy_threads: None, cache_rows: int
) -> None:
    store = ParagraphStore(big_store, cache_rows=cache_rows)
    rows = len(store)
    threads, reads = 16, 3000
    errors: list[BaseException] = []
    wrong: list[tuple[int, Paragraph]] = []
    start = threading.Barrier(threads)

    def read(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        try:
            for _ in range(reads):
                row = rng.randrange(rows)
                if rng.random() < 0.2:  # a slice, as the searcher reads a paragraph's neighbours
                    stop = min(rows, row + rng.randrange(1, 9))
                    got = list(zip(range(row, stop), store[row:stop], strict=True))
                else:
                    got = [(row, store[row])]
                wrong.extend((r, p) for r, p in got if p != paragraph(r))
        except BaseException as exc:  # noqa: BLE001 - any exception in a reader fails the test
            errors.append(exc)

    workers = [threading.Thread(target=read, args=(seed,)) for seed in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert wrong == []
    assert len(store._cache) <= cache_rows
