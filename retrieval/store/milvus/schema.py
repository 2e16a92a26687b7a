"""A build's collection: its fields, its record of what built it, made ready or dropped."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from typing import Any

from retrieval.errors import CorpusError, IndexStateError
from retrieval.ingest import Paragraph
from retrieval.store.base import BuildSpec
from retrieval.store.manifest import FORMAT_VERSION, Manifest
from retrieval.store.milvus.connection import CALL_TIMEOUT, MilvusConnection
from retrieval.store.milvus.errors import MilvusError
from retrieval.store.paragraphs import paragraph_from_record, paragraph_record

logger = logging.getLogger(__name__)

RECORD_PROPERTY = "qabot.record"
# Bump when the collection's fields change: collections of another layout are rebuilt.
# 2: a page field.
SCHEMA_VERSION = 2
# A server counts VARCHAR max_length in UTF-8 bytes (a Chinese character is 3 of them), and
# 65,535 is the most a field may declare.
FIELD_BYTES = {"doc": 1024, "section": 8192, "text": 65_535, "meta": 16_384}
PARAGRAPH_FIELDS = ["id", "doc", "number", "section", "text", "meta", "page"]
# Milvus Lite has no nullable fields: a paragraph without a page stores this.
NO_PAGE = -1
INDEX_TYPES = {"flat": "FLAT", "hnsw": "HNSW", "ivf": "IVF_FLAT"}
INDEX_TIMEOUT = 3600.0


def build_record(spec: BuildSpec, kind: str, count: int, dim: int) -> dict[str, object]:
    """Return the collection's own record of what built it, compared with the manifest."""
    return {
        "qabot_schema": SCHEMA_VERSION,
        "format_version": FORMAT_VERSION,
        "model": spec.model,
        "dim": dim,
        "count": count,
        "corpus_hash": spec.corpus_hash,
        "index_type": kind,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def paragraph_fields(p: Paragraph) -> dict[str, Any]:
    """Return a paragraph's record as the collection's fields (meta as JSON text).

    Raises:
        CorpusError: a field is longer than a Milvus VARCHAR holds.
    """
    record = paragraph_record(p)
    fields: dict[str, Any] = {
        **record,
        "meta": json.dumps(record["meta"], ensure_ascii=False),
        "page": record.get("page", NO_PAGE),
    }
    for key, limit in FIELD_BYTES.items():
        size = len(fields[key].encode("utf-8"))
        if size > limit:
            raise CorpusError(
                f"paragraph {p.id} has {size:,} bytes of {key} in UTF-8, more than the "
                f"{limit:,} a Milvus field holds; split it with a blank line, or use the "
                "FAISS backend"
            )
    return fields


def paragraph_from_fields(entity: dict[str, Any]) -> Paragraph:
    """Return the paragraph a row of the collection holds."""
    record = {key: value for key, value in entity.items() if key != "page" or value != NO_PAGE}
    record["meta"] = json.loads(record.get("meta") or "[]")
    return paragraph_from_record(record)


def create_collection(
    connection: MilvusConnection, name: str, dim: int, record: dict[str, object]
) -> None:
    """Create an empty collection for a build's vectors and paragraphs, with its record."""
    from pymilvus import DataType, MilvusClient

    # The record is kept twice: in the description, which every server keeps (Milvus Lite 3
    # drops it), and as a property, which Milvus Lite 2.5 cannot set.
    text = json.dumps(record)
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False, description=text)
    schema.add_field("id", DataType.INT64, is_primary=True, description="paragraph row")
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("doc", DataType.VARCHAR, max_length=FIELD_BYTES["doc"])
    schema.add_field("number", DataType.INT64)
    schema.add_field("section", DataType.VARCHAR, max_length=FIELD_BYTES["section"])
    schema.add_field("text", DataType.VARCHAR, max_length=FIELD_BYTES["text"])
    schema.add_field("meta", DataType.VARCHAR, max_length=FIELD_BYTES["meta"])
    schema.add_field("page", DataType.INT64)
    connection.call(
        "create a collection",
        connection.client.create_collection,
        name,
        schema=schema,
        consistency_level="Strong",
        timeout=CALL_TIMEOUT,
    )
    try:
        connection.client.alter_collection_properties(
            name, properties={RECORD_PROPERTY: text}, timeout=CALL_TIMEOUT
        )
    except Exception as exc:  # the description holds the record as well
        logger.debug("collection properties not kept by %s: %s", connection.shown_uri, exc)


def check_record(connection: MilvusConnection, name: str, manifest: Manifest) -> None:
    """Check that a collection holds the build the manifest describes.

    Raises:
        IndexStateError: the collection is gone, or holds another build or model.
    """
    if not connection.call("look up the collection", connection.client.has_collection, name):
        raise IndexStateError(f"the Milvus collection {name} is gone from {connection.shown_uri}")
    info = connection.call("describe the collection", connection.client.describe_collection, name)
    text = (info.get("properties") or {}).get(RECORD_PROPERTY) or info.get("description")
    try:
        record = json.loads(text or "{}")
    except ValueError:
        record = {}
    expected = {
        "qabot_schema": SCHEMA_VERSION,
        "format_version": manifest.format_version,
        "model": manifest.model,
        "dim": manifest.dim,
        "count": manifest.count,
        "corpus_hash": manifest.corpus_hash,
        "index_type": manifest.index_type,
    }
    differs = [key for key, value in expected.items() if record.get(key) != value]
    if differs:
        raise IndexStateError(
            f"the Milvus collection {name} does not match its index directory "
            f"({', '.join(differs)} differ)"
        )


def _index_state(connection: MilvusConnection, name: str, kind: str) -> str:
    """Return the vector index's build state, once it is found to be the one asked for."""
    indexes = connection.call("list indexes", connection.client.list_indexes, name, "vector")
    if not indexes:
        raise IndexStateError(f"the Milvus collection {name} has no vector index")
    info = connection.call("describe the index", connection.client.describe_index, name, indexes[0])
    if str(info.get("metric_type", "")).upper() != "IP":
        raise IndexStateError(
            f"the Milvus collection {name} is indexed for {info.get('metric_type')}, "
            "not inner product (IP)"
        )
    if str(info.get("index_type", "")).upper() != INDEX_TYPES[kind]:
        raise IndexStateError(
            f"the Milvus collection {name} has a {info.get('index_type')} index, "
            f"not {INDEX_TYPES[kind]}"
        )
    state = str(info.get("state", "Finished"))
    if state == "Failed":
        raise MilvusError(
            f"Milvus failed to build the index of {name}: "
            f"{info.get('index_state_fail_reason') or 'no reason given'}"
        )
    return state


def wait_for_index(connection: MilvusConnection, name: str, kind: str) -> None:
    """Wait until the vector index is built; a search before that would scan or fail."""
    deadline = time.monotonic() + INDEX_TIMEOUT
    while _index_state(connection, name, kind) != "Finished":
        if time.monotonic() > deadline:
            raise MilvusError(f"the index of {name} was not built in {INDEX_TIMEOUT:.0f} s")
        time.sleep(0.5)


def make_ready(connection: MilvusConnection, name: str, kind: str, count: int) -> None:
    """Wait for the collection's index, load it for search, and check it holds `count` rows.

    Raises:
        IndexStateError: it has another index, does not load, or holds another number of rows.
    """
    wait_for_index(connection, name, kind)
    client = connection.client
    connection.call("load the collection", client.load_collection, name, timeout=INDEX_TIMEOUT)
    state = connection.call("read the load state", client.get_load_state, name)
    if "Loaded" not in str(state.get("state")):
        raise IndexStateError(f"the Milvus collection {name} did not load ({state})")
    # Strong: this must see every row written, not a snapshot from before the build.
    rows = connection.call(
        "count the rows",
        client.query,
        name,
        filter="",
        output_fields=["count(*)"],
        consistency_level="Strong",
        timeout=CALL_TIMEOUT,
    )
    stored = int(rows[0]["count(*)"]) if rows else 0
    if stored != count:
        raise IndexStateError(
            f"the Milvus collection {name} holds {stored} rows, not the {count} of the index"
        )


def drop_collection(connection: MilvusConnection, name: str, timeout: float = CALL_TIMEOUT) -> None:
    """Drop a collection if it is there (an old or an unfinished build)."""
    client = connection.client
    if connection.call("look up a collection", client.has_collection, name, timeout=timeout):
        connection.call("drop a collection", client.drop_collection, name, timeout=timeout)
        logger.info("dropped Milvus collection %s", name)
