"""Tests for retrieval.store.tuning: the index type by corpus size, the IVF cluster count."""

from __future__ import annotations

import pytest

from retrieval.errors import UsageError
from retrieval.store.tuning import FLAT_MAX_ROWS, choose_index_type, ivf_lists


@pytest.mark.parametrize(
    ("rows", "requested", "kind"),
    [
        (10, "auto", "flat"),
        (FLAT_MAX_ROWS, "auto", "flat"),
        (FLAT_MAX_ROWS + 1, "auto", "hnsw"),
        (10, "ivf", "ivf"),
        (1_000_000, "flat", "flat"),
    ],
)
def test_index_type(rows: int, requested: str, kind: str) -> None:
    assert choose_index_type(rows, requested) == kind


def test_unknown_index_type_lists_the_choices() -> None:
    with pytest.raises(UsageError, match="unknown index type 'lsh'; choose one of auto, flat"):
        choose_index_type(10, "lsh")


@pytest.mark.parametrize(
    ("rows", "lists"), [(0, 1), (38, 1), (390, 10), (10_000, 256), (1_000_000, 4000)]
)
def test_ivf_lists_are_about_4_sqrt_n_with_39_points_each(rows: int, lists: int) -> None:
    assert ivf_lists(rows) == lists
