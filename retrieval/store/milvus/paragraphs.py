"""The paragraphs of a build, read by row from its collection's fields."""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.errors import IndexStateError, Remedy
from retrieval.ingest import Paragraph
from retrieval.store.milvus.connection import MilvusConnection
from retrieval.store.milvus.schema import PARAGRAPH_FIELDS, paragraph_from_fields
from retrieval.store.paragraphs import RowSequence

QUERY_BATCH_ROWS = 1000


def fetch_paragraphs(
    connection: MilvusConnection, name: str, rows: Sequence[int]
) -> dict[int, Paragraph]:
    """Return the paragraphs of the given rows, by row, in as few queries as it takes."""
    found: dict[int, Paragraph] = {}
    wanted = sorted(set(rows))
    for start in range(0, len(wanted), QUERY_BATCH_ROWS):
        ids = wanted[start : start + QUERY_BATCH_ROWS]
        result = connection.read(
            "read paragraphs",
            name,
            connection.client.query,
            filter=f"id in {ids}",
            output_fields=PARAGRAPH_FIELDS,
            consistency_level="Bounded",
        )
        for entity in result:
            found[int(entity["id"])] = paragraph_from_fields(dict(entity))
    return found


class MilvusParagraphs(RowSequence):
    """The paragraphs of a build, read from its collection by row; recent rows stay cached."""

    ITER_BATCH_ROWS = QUERY_BATCH_ROWS

    def __init__(self, connection: MilvusConnection, name: str, count: int) -> None:
        super().__init__()
        self._connection = connection
        self.collection = name
        self._count = count

    def __len__(self) -> int:
        return self._count

    def _fetch(self, rows: Sequence[int]) -> dict[int, Paragraph]:
        fetched = fetch_paragraphs(self._connection, self.collection, rows)
        absent = [r for r in rows if r not in fetched]
        if absent:
            raise IndexStateError(
                f"the Milvus collection {self.collection} has no paragraph row {absent[0]}",
                remedy=Remedy.REBUILD_INDEX,
            )
        return fetched
