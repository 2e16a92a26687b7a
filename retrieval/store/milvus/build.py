"""Write a build into a new collection: the rows in batches, the vector index, then load it."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import Remedy, UsageError
from retrieval.ingest import Paragraph
from retrieval.store.base import BuildSpec
from retrieval.store.milvus.connection import CALL_TIMEOUT, MilvusConnection
from retrieval.store.milvus.schema import (
    INDEX_TYPES,
    build_record,
    create_collection,
    drop_collection,
    make_ready,
    paragraph_fields,
)
from retrieval.store.milvus.search import MilvusStore
from retrieval.store.milvus.state import (
    building_note,
    new_collection_name,
    read_building,
    read_state,
)
from retrieval.store.tuning import HNSW_EF_CONSTRUCTION, HNSW_M, choose_index_type, ivf_lists

# One insert request stays far below the server's 64 MiB gRPC message limit.
INSERT_BATCH_BYTES = 8 * 1024 * 1024
INSERT_BATCH_ROWS = 2000
# Milvus Lite builds FLAT and IVF_FLAT only; its "auto" for a large corpus is IVF.
LITE_INDEX_TYPES = ("flat", "ivf")
# The most IVF lists a Milvus index may have.
MAX_NLIST = 65_536
# How long a failed build tries to drop its collection before leaving it to the next build.
CLEANUP_TIMEOUT = 5


def index_kind(is_lite: bool, rows: int, requested: str) -> str:
    """Return the index type for a corpus of `rows` paragraphs on a deployment."""
    kind = choose_index_type(rows, requested)
    if is_lite and kind not in LITE_INDEX_TYPES:
        if requested != "auto":
            raise UsageError(
                f"Milvus Lite builds only {' and '.join(LITE_INDEX_TYPES)} indexes, not {kind}",
                remedy=Remedy.OTHER_INDEX_TYPE,
                data={"types": " or ".join(LITE_INDEX_TYPES)},
            )
        kind = "ivf"
    return kind


def insert_rows(
    connection: MilvusConnection, name: str, vectors: np.ndarray, records: list[dict[str, Any]]
) -> None:
    """Insert row i = vectors[i] + records[i], in requests of a bounded size."""

    def send(batch: list[dict[str, Any]]) -> None:
        insert = connection.client.insert
        connection.call("insert vectors", insert, name, batch, timeout=CALL_TIMEOUT)

    batch: list[dict[str, Any]] = []
    size = 0
    for row, fields in enumerate(records):
        batch.append({"id": row, "vector": vectors[row].tolist(), **fields})
        size += vectors.shape[1] * 4 + sum(len(str(v)) * 3 for v in fields.values())
        if len(batch) >= INSERT_BATCH_ROWS or size >= INSERT_BATCH_BYTES:
            send(batch)
            batch, size = [], 0
    if batch:
        send(batch)


def create_index(connection: MilvusConnection, name: str, kind: str, rows: int) -> None:
    """Create the inner-product vector index of the type asked for."""
    params = connection.client.prepare_index_params()
    build: dict[str, int] = {}
    if kind == "hnsw":
        build = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}
    elif kind == "ivf":
        # The same clusters as the FAISS IVF index, within what Milvus allows.
        build = {"nlist": min(ivf_lists(rows), MAX_NLIST)}
    params.add_index("vector", index_type=INDEX_TYPES[kind], metric_type="IP", params=build)
    connection.call(
        "create the vector index",
        connection.client.create_index,
        name,
        params,
        timeout=CALL_TIMEOUT,
    )


def build_collection(
    connection: MilvusConnection,
    directory: Path,
    vectors: np.ndarray,
    paragraphs: Sequence[Paragraph],
    spec: BuildSpec,
) -> MilvusStore:
    """Write the vectors and paragraphs into a new collection, indexed and loaded.

    A build never writes into a collection that searches may be using: it fills a new
    one, and the index directory's manifest switches to it. The build before stays for
    processes still searching it; the one before that is dropped, and so is one that a
    build cut short left behind (see state.building_note).

    Raises:
        CorpusError: a paragraph is longer than a Milvus VARCHAR field holds.
    """
    # Checked before anything changes on the server.
    records = [paragraph_fields(p) for p in paragraphs]
    n, dim = vectors.shape
    kind = index_kind(connection.is_lite, n, spec.index_type)
    previous = read_state(directory)
    here = previous.get("uri") == connection.shown_uri
    if here and previous.get("previous"):
        drop_collection(connection, str(previous["previous"]))
    # A build cut short (process or server killed) left a collection no manifest names.
    unfinished = read_building(directory)
    if unfinished and unfinished not in (previous.get("collection"), previous.get("previous")):
        drop_collection(connection, unfinished)
    name = new_collection_name(directory)
    building_note(directory).write_text(name, encoding="utf-8")
    connection.say(f"Writing {n} vectors to Milvus collection {name} at {connection.shown_uri}...")
    try:
        create_collection(connection, name, dim, build_record(spec, kind, n, dim))
        insert_rows(connection, name, vectors, records)
        connection.call("flush the collection", connection.client.flush, name, timeout=CALL_TIMEOUT)
        create_index(connection, name, kind, n)
        make_ready(connection, name, kind, n)
    except BaseException:
        # Best effort, and brief: a server that went away cannot drop it now, and the next
        # build drops it then (the building note names it).
        with contextlib.suppress(Exception):
            drop_collection(connection, name, timeout=CLEANUP_TIMEOUT)
        raise
    store = MilvusStore(connection, name, kind, n)
    store.state = {
        "uri": connection.shown_uri,
        "collection": name,
        "previous": previous.get("collection") if here else None,
    }
    return store
