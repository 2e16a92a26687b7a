"""The dense half on Milvus: one collection per build, searched like the FAISS index file."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import math
import re
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from retrieval.errors import CorpusError, IndexStateError, QabotError, UsageError
from retrieval.ingest import Paragraph
from retrieval.store.faiss_store import (
    HNSW_EF_CONSTRUCTION,
    HNSW_EF_SEARCH,
    HNSW_M,
    IVF_NPROBE,
    IVF_POINTS_PER_LIST,
    choose_index_type,
)
from retrieval.store.index import FORMAT_VERSION, Manifest
from retrieval.store.paragraphs import RowSequence, paragraph_from_record

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'qabot[milvus]'"
STATE_FILE = "milvus.json"
RECORD_PROPERTY = "qabot.record"
# Bump when the collection's fields change: collections of another layout are rebuilt.
SCHEMA_VERSION = 1
SERVER_SCHEMES = ("http", "https", "tcp", "grpc", "unix")
# Milvus caps a search's top-k (and a query's limit + offset) at 16,384.
MAX_TOPK = 16_384
# A server counts VARCHAR max_length in UTF-8 bytes (a Chinese character is 3 of them), and
# 65,535 is the most a field may declare.
FIELD_BYTES = {"doc": 1024, "section": 8192, "text": 65_535, "meta": 16_384}
PARAGRAPH_FIELDS = ["id", "doc", "number", "section", "text", "meta"]
# One insert request stays far below the server's 64 MiB gRPC message limit.
INSERT_BATCH_BYTES = 8 * 1024 * 1024
INSERT_BATCH_ROWS = 2000
QUERY_BATCH_ROWS = 1000
SEARCH_BATCH_QUERIES = 256
CONNECT_TIMEOUT = 10.0
CALL_TIMEOUT = 60
INDEX_TIMEOUT = 3600.0
CACHE_ROWS = 4096
# Milvus Lite's file name rules (milvus_lite.server), checked here to say so in one line.
LITE_NAME = re.compile(r"^[A-Za-z0-9.\-_]{1,36}$")
INDEX_TYPES = {"flat": "FLAT", "hnsw": "HNSW", "ivf": "IVF_FLAT"}
# Milvus Lite builds FLAT and IVF_FLAT only; its "auto" for a large corpus is IVF.
LITE_INDEX_TYPES = ("flat", "ivf")
FLOAT_MIN = float(np.finfo(np.float32).min)


class MilvusError(QabotError):
    """Milvus could not be used: not installed, unreachable, token rejected, bad URI."""


def display_uri(uri: str) -> str:
    """Return the URI without any user:password part, fit for messages and files."""
    parts = urlsplit(uri)
    if parts.scheme and "@" in parts.netloc:
        return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
    return uri


def _import_pymilvus(lite: bool) -> Any:
    try:
        with warnings.catch_warnings():
            # Milvus Lite 2.5 imports pkg_resources, which warns on every start.
            warnings.filterwarnings("ignore", message=".*pkg_resources", category=UserWarning)
            import pymilvus

            if lite:
                import milvus_lite.server_manager  # noqa: F401
    except ImportError as exc:
        if exc.name == "pkg_resources":
            raise MilvusError(
                "Milvus Lite 2.5 needs pkg_resources, which setuptools 81 removed; "
                "run: pip install 'setuptools<81'"
            ) from exc
        what = "Milvus Lite" if lite and exc.name and "milvus_lite" in exc.name else "pymilvus"
        raise MilvusError(f"{what} is not installed; run: {INSTALL_HINT}") from exc
    # pymilvus logs every failed call at ERROR with its own handler; qabot turns the same
    # failures into one-line errors, so its log is noise unless --debug asks for everything.
    debug = logging.getLogger().isEnabledFor(logging.DEBUG)
    for name in ("pymilvus", "pymilvus.milvus_client", "milvus_lite"):
        log = logging.getLogger(name)
        log.setLevel(logging.DEBUG if debug else logging.CRITICAL)
        log.propagate = debug
        if debug:
            log.handlers.clear()
    return pymilvus


class _HideLiteLog(logging.Filter):
    """Drop Milvus Lite's own error lines (it logs on the root logger); qabot says it better."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "milvus_lite" not in record.pathname


def _check_lite_path(uri: str) -> Path:
    path = Path(uri).expanduser()
    if path.suffix != ".db" or not LITE_NAME.match(path.name):
        raise UsageError(
            f"the Milvus URI {uri!r} is neither a server (http://host:19530) nor a Milvus Lite "
            "file: a file name ends in .db and has at most 36 letters, digits, '.', '-' or '_'"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def _lite_in_use(path: Path) -> bool:
    """Tell whether another process runs Milvus Lite on this file (holds its lock).

    Asked before pymilvus tries: a failed start in milvus_lite 2.5 deletes the lock file of
    the process that holds it, after which a third process could open the file beside it.
    """
    from milvus_lite.server_manager import server_manager_instance

    # Closing any descriptor of a file drops this process's own POSIX locks on it, which
    # would stop a Milvus Lite server this process runs: never probe a file served here.
    if str(path) in getattr(server_manager_instance, "_servers", {}):
        return False
    # Milvus Lite 2.5 locks a file beside the database (POSIX lock), Milvus Lite 3 one inside
    # its database folder (flock).
    locks = ((path.parent / f".{path.name}.lock", fcntl.lockf), (path / "LOCK", fcntl.flock))
    for lock, take in locks:
        if not lock.is_file():
            continue
        with lock.open("a") as fh:
            try:
                take(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            take(fh, fcntl.LOCK_UN)
    return False


def _failure(exc: BaseException) -> tuple[str, str]:
    """Return the gRPC status name and the message of one pymilvus or gRPC exception."""
    code = getattr(exc, "code", None)
    code = code() if callable(code) else code
    details = getattr(exc, "details", None)
    message = getattr(exc, "message", "") or (details() if callable(details) else "") or exc
    return getattr(code, "name", ""), str(message)


def _translate(exc: BaseException, uri: str, doing: str) -> QabotError:
    """Turn a pymilvus or gRPC failure into one line saying what was wrong and what to do."""
    shown = display_uri(uri)
    # pymilvus 3 wraps the server's gRPC status in its own exception: read the whole chain.
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    failures = [_failure(e) for e in chain]
    names = {name for name, _ in failures}
    message = failures[0][1]
    lowered = " ".join(m for _, m in failures).lower()
    if "UNAUTHENTICATED" in names or any(
        words in lowered for words in ("auth check failure", "invalid token", "authenticat")
    ):
        return MilvusError(
            f"Milvus at {shown} rejected the credentials; check QABOT_MILVUS_TOKEN "
            "(user:password, or an API key)"
        )
    if "PERMISSION_DENIED" in names or "permission den" in lowered or "privilege" in lowered:
        return MilvusError(
            f"the Milvus user of QABOT_MILVUS_TOKEN may not {doing} at {shown}; grant it "
            "access to the database, or use another token"
        )
    if names & {"UNAVAILABLE", "DEADLINE_EXCEEDED"} or any(
        words in lowered for words in ("fail connecting", "failed to connect", "retry timeout")
    ):
        return MilvusError(
            f"cannot reach Milvus at {shown} (is the server running and the address right?); "
            "check --milvus-uri or QABOT_MILVUS_URI"
        )
    if "collection not found" in lowered or "can't find collection" in lowered:
        return IndexStateError(f"the Milvus collection is gone from {shown}")
    reason = message.strip() or type(exc).__name__
    return MilvusError(f"Milvus at {shown} failed to {doing}: {reason}")


class MilvusBackend:
    """A connection to one Milvus deployment (a server or a Milvus Lite file) and its builds."""

    _lite_users: dict[Path, int] = {}
    _lite_lock = threading.Lock()

    def __init__(self, client: Any, uri: str, lite_path: Path | None, say: Callable[[str], None]):
        self.client = client
        self.uri = uri
        self.lite_path = lite_path
        self.say = say

    @classmethod
    def connect(
        cls,
        uri: str,
        token: str = "",
        say: Callable[[str], None] = logger.info,
        timeout: float | None = None,
    ) -> MilvusBackend:
        """Connect to a Milvus server, or start Milvus Lite on a local .db file.

        Raises:
            MilvusError: pymilvus is missing, the server is unreachable or refuses the token,
                or the Lite file is in use by another process.
            UsageError: the URI is neither a server address nor a Lite file name.
        """
        scheme = urlsplit(uri).scheme.lower()
        lite_path = None
        if scheme and scheme not in SERVER_SCHEMES and len(scheme) > 1:
            raise UsageError(
                f"the Milvus URI {display_uri(uri)!r} has scheme {scheme!r}; use "
                "http://host:19530 (or https://) for a server, or a path ending in .db for "
                "Milvus Lite"
            )
        if not scheme:
            lite_path = _check_lite_path(uri)
        pymilvus = _import_pymilvus(lite_path is not None)
        target = str(lite_path) if lite_path else uri
        if lite_path is not None and _lite_in_use(lite_path):
            raise MilvusError(
                f"the Milvus Lite file {lite_path} is open in another process (Milvus Lite "
                "allows one process at a time); stop that process, or use a Milvus server"
            )
        hide = _HideLiteLog()
        root = logging.getLogger()
        if not root.isEnabledFor(logging.DEBUG):
            root.addFilter(hide)
        try:
            client = pymilvus.MilvusClient(
                uri=target, token=token, timeout=timeout or CONNECT_TIMEOUT
            )
        except Exception as exc:
            if lite_path is not None:
                raise MilvusError(f"cannot start Milvus Lite on {lite_path}: {exc}") from exc
            raise _translate(exc, uri, "connect") from exc
        finally:
            root.removeFilter(hide)
        if lite_path is not None:
            with cls._lite_lock:
                cls._lite_users[lite_path] = cls._lite_users.get(lite_path, 0) + 1
        backend = cls(client, uri, lite_path, say)
        try:
            # A server that takes any token for the connection can still refuse the first call.
            backend._call("list collections", client.list_collections, timeout=CALL_TIMEOUT)
        except BaseException:
            backend.close()
            raise
        return backend

    def close(self) -> None:
        """Close the connection; the last user of a Milvus Lite file stops its server."""
        with contextlib.suppress(Exception):
            self.client.close()
        path, self.lite_path = self.lite_path, None
        if path is None:
            return
        with self._lite_lock:
            users = self._lite_users.get(path, 0) - 1
            if users > 0:
                self._lite_users[path] = users
                return
            self._lite_users.pop(path, None)
        # Stopping the server releases the file lock, so another process may open the file.
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(str(path))

    def _call(self, doing: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except QabotError:
            raise
        except Exception as exc:
            raise _translate(exc, self.uri, doing) from exc

    @property
    def is_lite(self) -> bool:
        return self.lite_path is not None

    def index_kind(self, rows: int, requested: str) -> str:
        """Return the index type for a corpus of `rows` paragraphs on this deployment."""
        kind = choose_index_type(rows, requested)
        if self.is_lite and kind not in LITE_INDEX_TYPES:
            if requested != "auto":
                raise UsageError(
                    f"Milvus Lite builds only {' and '.join(LITE_INDEX_TYPES)} indexes, not "
                    f"{kind}; use --index-type flat or ivf, or a Milvus server"
                )
            kind = "ivf"
        return kind

    def build(
        self,
        directory: Path,
        vectors: np.ndarray,
        paragraphs: Sequence[Paragraph],
        model: str,
        corpus_hash: str,
        index_type: str = "auto",
    ) -> MilvusStore:
        """Write the vectors and paragraphs into a new collection, indexed and loaded.

        A build never writes into a collection that searches may be using: it fills a new
        one, and the index directory's manifest switches to it. The build before stays for
        processes still searching it; the one before that is dropped.

        Raises:
            CorpusError: a paragraph is longer than a Milvus VARCHAR field holds.
        """
        records = [_paragraph_fields(p) for p in paragraphs]
        n, dim = vectors.shape
        kind = self.index_kind(n, index_type)
        previous = _read_state(directory)
        if previous.get("uri") == display_uri(self.uri) and previous.get("previous"):
            self.drop(str(previous["previous"]))
        name = f"qabot_{re.sub(r'[^A-Za-z0-9_]', '_', directory.name)}_{time.time_ns() // 1000}"
        record = {
            "qabot_schema": SCHEMA_VERSION,
            "format_version": FORMAT_VERSION,
            "model": model,
            "dim": dim,
            "count": n,
            "corpus_hash": corpus_hash,
            "index_type": kind,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        self.say(f"Writing {n} vectors to Milvus collection {name} at {display_uri(self.uri)}...")
        try:
            self._create(name, dim, record)
            self._insert(name, vectors, records)
            self._call("flush the collection", self.client.flush, name, timeout=CALL_TIMEOUT)
            self._create_index(name, kind, n)
            store = self._open(name, kind, n)
        except BaseException:
            with contextlib.suppress(Exception):
                self.drop(name)
            raise
        store.state = {
            "uri": display_uri(self.uri),
            "collection": name,
            "previous": previous.get("collection")
            if previous.get("uri") == display_uri(self.uri)
            else None,
        }
        return store

    def _create(self, name: str, dim: int, record: dict[str, object]) -> None:
        from pymilvus import DataType, MilvusClient

        # The collection's own record of what built it, which a load compares with the index
        # directory's manifest, is kept twice: in the description, which every server keeps
        # (Milvus Lite 3 drops it), and as a property, which Milvus Lite 2.5 cannot set.
        text = json.dumps(record)
        schema = MilvusClient.create_schema(
            auto_id=False, enable_dynamic_field=False, description=text
        )
        schema.add_field("id", DataType.INT64, is_primary=True, description="paragraph row")
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("doc", DataType.VARCHAR, max_length=FIELD_BYTES["doc"])
        schema.add_field("number", DataType.INT64)
        schema.add_field("section", DataType.VARCHAR, max_length=FIELD_BYTES["section"])
        schema.add_field("text", DataType.VARCHAR, max_length=FIELD_BYTES["text"])
        schema.add_field("meta", DataType.VARCHAR, max_length=FIELD_BYTES["meta"])
        self._call(
            "create a collection",
            self.client.create_collection,
            name,
            schema=schema,
            consistency_level="Strong",
            timeout=CALL_TIMEOUT,
        )
        try:
            self.client.alter_collection_properties(
                name, properties={RECORD_PROPERTY: text}, timeout=CALL_TIMEOUT
            )
        except Exception as exc:  # the description holds the record as well
            logger.debug("collection properties not kept by %s: %s", display_uri(self.uri), exc)

    def _insert(self, name: str, vectors: np.ndarray, records: list[dict[str, Any]]) -> None:
        batch: list[dict[str, Any]] = []
        size = 0
        for row, fields in enumerate(records):
            batch.append({"id": row, "vector": vectors[row].tolist(), **fields})
            size += vectors.shape[1] * 4 + sum(len(str(v)) * 3 for v in fields.values())
            if len(batch) >= INSERT_BATCH_ROWS or size >= INSERT_BATCH_BYTES:
                self._call("insert vectors", self.client.insert, name, batch, timeout=CALL_TIMEOUT)
                batch, size = [], 0
        if batch:
            self._call("insert vectors", self.client.insert, name, batch, timeout=CALL_TIMEOUT)

    def _create_index(self, name: str, kind: str, rows: int) -> None:
        params = self.client.prepare_index_params()
        build: dict[str, int] = {}
        if kind == "hnsw":
            build = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}
        elif kind == "ivf":
            build = {"nlist": _ivf_lists(rows)}
        params.add_index("vector", index_type=INDEX_TYPES[kind], metric_type="IP", params=build)
        self._call(
            "create the vector index", self.client.create_index, name, params, timeout=CALL_TIMEOUT
        )

    def _wait_for_index(self, name: str, kind: str) -> None:
        """Wait until the vector index is built; a search before that would scan or fail."""
        deadline = time.monotonic() + INDEX_TIMEOUT
        while True:
            indexes = self._call("list indexes", self.client.list_indexes, name, "vector")
            if not indexes:
                raise IndexStateError(f"the Milvus collection {name} has no vector index")
            info = self._call("describe the index", self.client.describe_index, name, indexes[0])
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
            if state == "Finished":
                return
            if state == "Failed":
                raise MilvusError(
                    f"Milvus failed to build the index of {name}: "
                    f"{info.get('index_state_fail_reason') or 'no reason given'}"
                )
            if time.monotonic() > deadline:
                raise MilvusError(f"the index of {name} was not built in {INDEX_TIMEOUT:.0f} s")
            time.sleep(0.5)

    def _open(self, name: str, kind: str, count: int) -> MilvusStore:
        self._wait_for_index(name, kind)
        self._call("load the collection", self.client.load_collection, name, timeout=INDEX_TIMEOUT)
        state = self._call("read the load state", self.client.get_load_state, name)
        if "Loaded" not in str(state.get("state")):
            raise IndexStateError(f"the Milvus collection {name} did not load ({state})")
        # Strong: this must see every row written, not a snapshot from before the build.
        rows = self._call(
            "count the rows",
            self.client.query,
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
        return MilvusStore(self, name, kind, count)

    def open(self, directory: Path, manifest: Manifest) -> MilvusStore:
        """Open the collection an index directory was built into, checking its record.

        Raises:
            IndexStateError: the collection is gone, or holds another build or model.
        """
        state = _read_state(directory)
        name = state.get("collection")
        if not name or state.get("uri") != display_uri(self.uri):
            raise IndexStateError(
                f"the index at {directory} was not built in Milvus at {display_uri(self.uri)}"
            )
        name = str(name)
        if not self._call("look up the collection", self.client.has_collection, name):
            raise IndexStateError(
                f"the Milvus collection {name} is gone from {display_uri(self.uri)}"
            )
        info = self._call("describe the collection", self.client.describe_collection, name)
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
        return self._open(name, manifest.index_type, manifest.count)

    def drop(self, name: str) -> None:
        """Drop a collection if it is there (an old or an unfinished build)."""
        if self._call("look up a collection", self.client.has_collection, name):
            self._call("drop a collection", self.client.drop_collection, name)
            logger.info("dropped Milvus collection %s", name)


def _ivf_lists(rows: int) -> int:
    # The same clusters as the FAISS IVF index: ~4 sqrt(n), at least 39 points in each.
    return max(1, min(int(4 * math.sqrt(rows)), rows // IVF_POINTS_PER_LIST, 65_536))


def _paragraph_fields(p: Paragraph) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "doc": p.doc,
        "number": p.number,
        "section": p.section,
        "text": p.text,
        "meta": json.dumps([list(m) for m in p.meta], ensure_ascii=False),
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


def _read_state(directory: Path) -> dict[str, object]:
    try:
        state = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


class MilvusStore:
    """One built collection: top-k inner-product search by row, like FaissStore."""

    def __init__(self, backend: MilvusBackend, name: str, kind: str, count: int) -> None:
        self.backend = backend
        self.collection = name
        self.kind = kind
        self._count = count
        self.state: dict[str, object] = {}
        self._paragraphs: MilvusParagraphs | None = None

    @property
    def ntotal(self) -> int:
        return self._count

    def _search_params(self, k: int) -> dict[str, Any]:
        # The metric must be the index's own: a server refuses a search in another one.
        if self.kind == "hnsw":
            return {"metric_type": "IP", "params": {"ef": max(HNSW_EF_SEARCH, k)}}
        if self.kind == "ivf":
            return {"metric_type": "IP", "params": {"nprobe": IVF_NPROBE}}
        return {"metric_type": "IP", "params": {}}

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (scores, rows), each of shape (len(queries), k); missing rows are -1."""
        k = max(1, min(k, self.ntotal, MAX_TOPK))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        scores = np.full((len(queries), k), FLOAT_MIN, dtype=np.float32)
        rows = np.full((len(queries), k), -1, dtype=np.int64)
        for start in range(0, len(queries), SEARCH_BATCH_QUERIES):
            batch = queries[start : start + SEARCH_BATCH_QUERIES]
            hits = self.backend._call(
                "search",
                self.backend.client.search,
                self.collection,
                data=batch.tolist(),
                anns_field="vector",
                limit=k,
                # The primary key (the row) is all a ranking needs; an empty list would mean
                # every field, vectors too, to Milvus Lite 3.
                output_fields=["id"],
                search_params=self._search_params(k),
                # A published build is never written again and was flushed before it was
                # loaded, so a bounded-staleness read sees all of it without waiting.
                consistency_level="Bounded",
                timeout=CALL_TIMEOUT,
            )
            for i, found in enumerate(hits):
                for j, hit in enumerate(found[:k]):
                    rows[start + i, j] = int(hit["id"])
                    scores[start + i, j] = float(hit["distance"])
        return scores, rows

    def save(self, directory: Path) -> None:
        """Write which collection (on which server) holds this build into the index directory."""
        text = json.dumps({"collection": self.collection, **self.state}, ensure_ascii=False)
        (directory / STATE_FILE).write_text(text, encoding="utf-8")

    @property
    def paragraphs(self) -> MilvusParagraphs:
        """Return the paragraphs of this build, read from the collection's fields."""
        if self._paragraphs is None:
            self._paragraphs = MilvusParagraphs(self)
        return self._paragraphs

    def fetch(self, rows: Sequence[int]) -> dict[int, Paragraph]:
        """Return the paragraphs of the given rows, by row, in as few queries as it takes."""
        found: dict[int, Paragraph] = {}
        wanted = sorted(set(rows))
        for start in range(0, len(wanted), QUERY_BATCH_ROWS):
            ids = wanted[start : start + QUERY_BATCH_ROWS]
            result = self.backend._call(
                "read paragraphs",
                self.backend.client.query,
                self.collection,
                filter=f"id in {ids}",
                output_fields=PARAGRAPH_FIELDS,
                consistency_level="Bounded",
                timeout=CALL_TIMEOUT,
            )
            for entity in result:
                record = dict(entity)
                record["meta"] = json.loads(record.get("meta") or "[]")
                found[int(record["id"])] = paragraph_from_record(record)
        return found


class MilvusParagraphs(RowSequence):
    """The paragraphs of a build, read from its collection by row; recent rows stay cached."""

    def __init__(self, store: MilvusStore) -> None:
        self._store = store
        self._cache: OrderedDict[int, Paragraph] = OrderedDict()
        # The bot searches in worker threads; the cache must not be reordered by two at once.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._store.ntotal

    def _rows(self, rows: Sequence[int]) -> list[Paragraph]:
        with self._lock:
            missing = [r for r in rows if r not in self._cache]
        fetched = self._store.fetch(missing) if missing else {}
        absent = [r for r in missing if r not in fetched]
        if absent:
            raise IndexStateError(
                f"the Milvus collection {self._store.collection} has no paragraph row "
                f"{absent[0]}; run: qabot index --rebuild"
            )
        with self._lock:
            out = []
            for r in rows:
                paragraph = fetched.get(r) or self._cache[r]
                self._cache[r] = paragraph
                self._cache.move_to_end(r)
                out.append(paragraph)
            while len(self._cache) > CACHE_ROWS:
                self._cache.popitem(last=False)
        return out

    def __iter__(self) -> Iterator[Paragraph]:
        for start in range(0, len(self), QUERY_BATCH_ROWS):
            batch = range(start, min(start + QUERY_BATCH_ROWS, len(self)))
            # A whole pass goes around the cache, so it does not push out the hot rows.
            fetched = self._store.fetch(batch)
            for row in batch:
                if row not in fetched:
                    raise IndexStateError(
                        f"the Milvus collection {self._store.collection} has no paragraph row "
                        f"{row}; run: qabot index --rebuild"
                    )
                yield fetched[row]
