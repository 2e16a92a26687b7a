"""The paragraph store: paragraphs on disk, read one at a time by row, never all into memory."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import overload

import numpy as np

from retrieval.ingest import Paragraph

PARAGRAPHS = "paragraphs.jsonl"
OFFSETS = "paragraphs.offsets.npy"
# Rows read recently stay decoded: a bot shows the same few passages again and again.
CACHE_ROWS = 4096


def paragraph_record(p: Paragraph) -> dict[str, object]:
    """Return a paragraph as a JSON-ready record (``page`` only where there is one)."""
    record: dict[str, object] = {
        "doc": p.doc,
        "number": p.number,
        "section": p.section,
        "text": p.text,
        "meta": [list(m) for m in p.meta],
    }
    if p.page is not None:
        record["page"] = p.page
    return record


def paragraph_from_record(record: dict[str, object]) -> Paragraph:
    """Return the paragraph a `paragraph_record` describes."""
    page = record.get("page")
    meta = tuple((str(k), str(v)) for k, v in record.get("meta", []))  # type: ignore[attr-defined]
    return Paragraph(
        str(record["doc"]),
        int(record["number"]),  # type: ignore[call-overload]
        str(record["section"]),
        str(record["text"]),
        meta,
        int(page) if isinstance(page, int) else None,
    )


class StoredRows:
    """Rows of a saved 2-D array (.npy), read from the file a few at a time on demand.

    Rows are read with pread, not memory-mapped: the kernel maps 64 KB around every touched
    page of a mapping, so re-scoring scattered rows of a million-row file made 1.5 GB of it
    resident in the searcher. Read this way, only the rows asked for are copied in, and the
    file stays in the page cache, shared by every process that reads it.
    """

    def __init__(self, path: Path) -> None:
        """Open the file and read its header.

        Raises:
            OSError, ValueError: the file cannot be read or is not a 2-D array of numbers.
        """
        with path.open("rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                raise ValueError(f"{path.name} has .npy format {version}, not one qabot writes")
            self._offset = fh.tell()
        if fortran or dtype.hasobject or len(shape) != 2:
            raise ValueError(f"{path.name} is not a 2-D array of numbers")
        self.shape: tuple[int, int] = (int(shape[0]), int(shape[1]))
        self.dtype = dtype
        self._row_bytes = self.shape[1] * dtype.itemsize
        expected = self._offset + self.shape[0] * self._row_bytes
        if path.stat().st_size != expected:
            raise ValueError(f"{path.name} holds {path.stat().st_size} bytes, not {expected}")
        self._fd = os.open(path, os.O_RDONLY)

    def __del__(self) -> None:
        with contextlib.suppress(AttributeError, OSError):
            os.close(self._fd)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """Return the given rows (valid row numbers) as an array, in the order asked."""
        out = np.empty((len(rows), self.shape[1]), dtype=self.dtype)
        for i, row in enumerate(rows):
            if not 0 <= row < self.shape[0]:
                raise IndexError(f"row {row} out of range 0..{self.shape[0] - 1}")
            data = os.pread(self._fd, self._row_bytes, self._offset + int(row) * self._row_bytes)
            if len(data) != self._row_bytes:
                raise OSError(f"short read of row {row}: the file changed while open")
            out[i] = np.frombuffer(data, dtype=self.dtype)
        return out


Rows = np.ndarray | StoredRows


def write_paragraphs(directory: Path, paragraphs: Iterable[Paragraph]) -> int:
    """Write paragraphs as JSON lines with a byte-offset table; return how many."""
    offsets = [0]
    with (directory / PARAGRAPHS).open("wb") as fh:
        for p in paragraphs:
            line = json.dumps(paragraph_record(p), ensure_ascii=False).encode("utf-8") + b"\n"
            fh.write(line)
            offsets.append(offsets[-1] + len(line))
    np.save(directory / OFFSETS, np.asarray(offsets, dtype=np.int64), allow_pickle=False)
    return len(offsets) - 1


class ParagraphCache:
    """The paragraphs of the rows read most recently, safe to share between threads.

    The bot searches on several worker threads at once: every look-up reorders the cache, and
    a row read by one thread could be pushed out by another between a check and a read, so
    each call takes the lock for all of its rows.
    """

    def __init__(self, rows: int = CACHE_ROWS) -> None:
        self.rows = rows
        self._paragraphs: OrderedDict[int, Paragraph] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._paragraphs)

    def get(self, rows: Iterable[int]) -> dict[int, Paragraph]:
        """Return the cached paragraphs among these rows, by row, as recently used now."""
        found: dict[int, Paragraph] = {}
        with self._lock:
            for row in rows:
                paragraph = self._paragraphs.get(row)
                if paragraph is not None:
                    self._paragraphs.move_to_end(row)
                    found[row] = paragraph
        return found

    def put(self, paragraphs: Mapping[int, Paragraph]) -> None:
        """Keep these paragraphs, pushing out the least recently used beyond `rows`."""
        with self._lock:
            for row, paragraph in paragraphs.items():
                self._paragraphs[row] = paragraph
                self._paragraphs.move_to_end(row)
            while len(self._paragraphs) > self.rows:
                self._paragraphs.popitem(last=False)


class RowSequence(Sequence[Paragraph]):
    """A read-only sequence of paragraphs by index row, read in batches; recent rows cached.

    A store says how many rows it has (`__len__`) and how to read some of them (`_fetch`).
    """

    # A whole pass reads this many rows at a time.
    ITER_BATCH_ROWS = 1000

    def __init__(self, cache_rows: int = CACHE_ROWS) -> None:
        self._cache = ParagraphCache(cache_rows)

    def __len__(self) -> int:
        raise NotImplementedError

    def _fetch(self, rows: Sequence[int]) -> dict[int, Paragraph]:
        """Return the paragraphs of these rows (all valid), by row, from where they are kept."""
        raise NotImplementedError

    def _rows(self, rows: Sequence[int]) -> list[Paragraph]:
        found = self._cache.get(rows)
        missing = [r for r in rows if r not in found]
        if missing:
            fetched = self._fetch(missing)
            self._cache.put(fetched)
            found.update(fetched)
        return [found[r] for r in rows]

    @overload
    def __getitem__(self, index: int) -> Paragraph: ...

    @overload
    def __getitem__(self, index: slice) -> list[Paragraph]: ...

    def __getitem__(self, index: int | slice) -> Paragraph | list[Paragraph]:
        if isinstance(index, slice):
            return self._rows(range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"paragraph row {index} out of range 0..{len(self) - 1}")
        return self._rows([index])[0]

    def __iter__(self) -> Iterator[Paragraph]:
        for start in range(0, len(self), self.ITER_BATCH_ROWS):
            batch = range(start, min(start + self.ITER_BATCH_ROWS, len(self)))
            # A whole pass goes around the cache, so it does not push out the hot rows.
            fetched = self._fetch(batch)
            for row in batch:
                yield fetched[row]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


class ParagraphStore(RowSequence):
    """A read-only sequence of paragraphs backed by a JSON-lines file and its offsets.

    Row i is paragraph i of the index. Loading costs one small offsets array; a paragraph is
    read (pread, see StoredRows) and decoded only when it is asked for, so a million-paragraph
    corpus opens in milliseconds.
    """

    def __init__(self, directory: Path, cache_rows: int = CACHE_ROWS) -> None:
        super().__init__(cache_rows)
        self._offsets = np.load(directory / OFFSETS, mmap_mode="r", allow_pickle=False)
        path = directory / PARAGRAPHS
        size = path.stat().st_size
        if len(self._offsets) < 1 or int(self._offsets[-1]) != size:
            raise ValueError(f"{path} does not match its offset table")
        self._file = path.open("rb")

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def _fetch(self, rows: Sequence[int]) -> dict[int, Paragraph]:
        return {row: self._read(row) for row in rows}

    def _read(self, row: int) -> Paragraph:
        start, end = int(self._offsets[row]), int(self._offsets[row + 1])
        line = os.pread(self._file.fileno(), end - start, start)
        return paragraph_from_record(json.loads(line))
