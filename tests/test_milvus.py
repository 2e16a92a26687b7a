"""Tests for retrieval.store.milvus: same answers as FAISS, rebuilds, errors.

The tests that take the `deployment` fixture run twice: on Milvus Lite, and on a real Milvus
server over TCP with authorization on (marked milvus_server; tests/support/milvus_server.py).
Authentication and faults on the server are in tests/test_milvus_server.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.cli.main import main
from bot.wording import cli_message
from retrieval.config import Settings, load_settings
from retrieval.engine import Engine
from retrieval.errors import CorpusError, UsageError
from retrieval.ingest import Document, Paragraph, cutter
from retrieval.search import Searcher
from retrieval.store.index import LoadedIndex, build_index, load_index
from retrieval.store.manifest import FORMAT_VERSION
from retrieval.store.milvus import (
    MAX_TOPK,
    MilvusBackend,
    MilvusError,
    MilvusParagraphs,
    MilvusStore,
)
from retrieval.store.milvus.state import new_collection_name
from retrieval.store.registry import open_backend
from tests.conftest import SEED, FakeEncoder, run_qabot
from tests.support.milvus_server import ROOT_TOKEN, MilvusServer, unavailable


def _lite_missing() -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import milvus_lite.server_manager  # noqa: F401
            import pymilvus  # noqa: F401
    except ImportError as exc:
        return f"Milvus Lite is not installed ({exc}); pip install 'qabot[milvus]'"
    return None


MISSING = _lite_missing()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=str(MISSING))

# Questions on the bundled page, of every kind: facts, numbers, paraphrase, traditional
# characters, English, and one the page does not answer.
QUESTIONS = (
    "今年计划免费送戏下乡多少场？",
    "迎泽大街什么时候停水？",
    "多少残疾儿童得到了康复救助？",
    "全省建了多少个标准化快递综合服务站？",
    "放心午餐工程省财政拿出了多少钱？",
    "網店把農產品賣到縣外，每件快遞能補貼多少錢？",
    "How many village express service stations have been registered in Shanxi?",
    "AED 配置多少台",
    "火星上有没有停水？",
)


def quiet(_: str) -> None:
    pass


@dataclass
class Deployment:
    """Where the tests' collections live: Milvus Lite files, or one server (with a token)."""

    name: str
    folder: Path
    server: MilvusServer | None = None

    @property
    def token(self) -> str:
        return ROOT_TOKEN if self.server else ""

    def uri(self, name: str, folder: Path | None = None) -> str:
        """Return the URI of a test's Milvus: its own Lite file (in `folder`), or the server."""
        return self.server.uri if self.server else str((folder or self.folder) / f"{name}.db")

    def settings(self, name: str, folder: Path | None = None, **fields: Any) -> Settings:
        uri = self.uri(name, folder)
        return Settings(backend="milvus", milvus_uri=uri, milvus_token=self.token, **fields)

    def env(self, name: str) -> dict[str, str]:
        """Return the environment that points a qabot process at this deployment."""
        return {
            "QABOT_BACKEND": "milvus",
            "QABOT_MILVUS_URI": self.uri(name),
            "QABOT_MILVUS_TOKEN": self.token,
        }

    def restart(self) -> None:
        """Kill the server and start it again on the same data (nothing to do for Lite)."""
        if self.server:
            self.server.restart()


@pytest.fixture(
    scope="module", params=["lite", pytest.param("server", marks=pytest.mark.milvus_server)]
)
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    folder = tmp_path_factory.mktemp(f"milvus-{request.param}")
    if request.param == "lite":
        yield Deployment("Milvus Lite", folder)
        return
    reason = unavailable()
    if reason:
        pytest.skip(f"no Milvus server: {reason}")
    with MilvusServer(folder / "server", auth=True) as server:
        server.start()
        yield Deployment("Milvus server", folder, server)


@pytest.fixture(scope="module")
def milvus_engine(seed_engine: Engine, deployment: Deployment) -> Iterator[Engine]:
    """The bundled corpus in Milvus, with the real default model (as seed_engine)."""
    messages: list[str] = []
    settings = deployment.settings("seed", home=seed_engine.settings.home)
    engine = Engine(settings, say=messages.append)
    engine.messages = messages  # type: ignore[attr-defined]
    engine.searcher  # noqa: B018  (build it now)
    yield engine
    engine.close()


@pytest.fixture
def fake_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deployment: Deployment
) -> Iterator[tuple[Engine, Path, list[str]]]:
    """An engine over a copy of the seed corpus in Milvus, with the fake encoder."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    fake = FakeEncoder()
    monkeypatch.setattr("retrieval.engine.load_encoder", lambda *_args, **_kw: fake)
    messages: list[str] = []
    settings = deployment.settings(
        "fake", tmp_path, corpus=(corpus,), home=tmp_path / "home", model=fake.model
    )
    engine = Engine(settings, say=messages.append)
    yield engine, corpus, messages
    engine.close()


def _ids(engine: Engine, question: str, method: str) -> list[str]:
    answer = engine.searcher.search(question, k=5, method=method)
    return [p.paragraph.id for p in answer.passages]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["dense", "hybrid"])
def test_same_top5_as_faiss(seed_engine: Engine, milvus_engine: Engine, method: str) -> None:
    for question in QUESTIONS:
        assert _ids(milvus_engine, question, method) == _ids(seed_engine, question, method), (
            question
        )


@pytest.mark.slow
def test_same_scores_and_paragraphs_as_faiss(seed_engine: Engine, milvus_engine: Engine) -> None:
    faiss_index, milvus_index = seed_engine.searcher.index, milvus_engine.searcher.index
    assert isinstance(milvus_index.vectors, MilvusStore)
    assert isinstance(milvus_index.paragraphs, MilvusParagraphs)
    # Every field the bot and CLI show comes back from the collection unchanged.
    assert milvus_index.paragraphs == faiss_index.paragraphs
    assert milvus_index.paragraphs[15:18] == faiss_index.paragraphs[15:18]
    vector = seed_engine.searcher.encoder.encode_queries([QUESTIONS[0]])
    want_scores, want_rows = faiss_index.vectors.search(vector, 10)
    scores, rows = milvus_index.vectors.search(vector, 10)
    assert rows.tolist() == want_rows.tolist()
    assert np.allclose(scores, want_scores, atol=1e-5)
    assert milvus_engine.searcher.neighbours(faiss_index.documents[0], 16) == (
        seed_engine.searcher.neighbours(faiss_index.documents[0], 16)
    )


@pytest.mark.slow
def test_collection_is_indexed_loaded_and_carries_its_record(milvus_engine: Engine) -> None:
    index = milvus_engine.searcher.index
    store = index.vectors
    assert isinstance(store, MilvusStore)
    client = store.backend.client
    info = client.describe_index(store.collection, "vector")
    assert (info["index_type"], info["metric_type"], info["state"]) == ("FLAT", "IP", "Finished")
    assert "Loaded" in str(client.get_load_state(store.collection)["state"])
    info = client.describe_collection(store.collection)
    record = json.loads(info["properties"].get("qabot.record") or info["description"])
    manifest = index.manifest
    assert record["model"] == manifest.model == "intfloat/multilingual-e5-small"
    assert record["corpus_hash"] == manifest.corpus_hash
    assert (record["format_version"], record["count"], record["dim"]) == (FORMAT_VERSION, 50, 384)


@pytest.mark.slow
def test_persists_after_closing_and_reopening(
    milvus_engine: Engine, deployment: Deployment
) -> None:
    before = _ids(milvus_engine, QUESTIONS[1], "hybrid")
    milvus_engine.close()  # stops Milvus Lite and frees the file
    deployment.restart()  # a server is killed (SIGKILL) and started again on its data
    milvus_engine.messages.clear()  # type: ignore[attr-defined]
    assert _ids(milvus_engine, QUESTIONS[1], "hybrid") == before
    assert milvus_engine.messages == []  # type: ignore[attr-defined]  (loaded, not rebuilt)


@pytest.mark.slow
def test_cli_ask_with_backend_milvus(
    seed_engine: Engine, milvus_engine: Engine, deployment: Deployment
) -> None:
    question = QUESTIONS[0]
    expected = _ids(seed_engine, question, "hybrid")
    milvus_engine.close()  # Milvus Lite lets one process at a time open the file
    uri = deployment.uri("seed")
    result = run_qabot(
        "ask",
        question,
        "--json",
        "-k",
        "5",
        "--backend",
        "milvus",
        "--milvus-uri",
        uri,
        env={"QABOT_MILVUS_TOKEN": deployment.token},
    )
    assert result.returncode == 0, result.stderr
    assert "Indexed" not in result.stderr  # the build of this module is used, not redone
    answers = json.loads(result.stdout)["answers"]
    assert [f"{a['doc']}#{a['paragraph']}" for a in answers] == expected
    assert answers[0]["text"] == seed_engine.searcher.index.paragraphs[15].text


def _quality(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, float]]:
    assert result.returncode == 0, result.stderr
    methods = json.loads(result.stdout.splitlines()[0])["methods"]
    speed = ("qps", "build_s")
    return {m: {k: v for k, v in row.items() if k not in speed} for m, row in methods.items()}


@pytest.mark.slow
def test_cli_eval_with_backend_milvus(milvus_engine: Engine, deployment: Deployment) -> None:
    pytest.importorskip("ir_measures")
    milvus_engine.close()
    on_milvus = run_qabot("eval", "--limit", "20", "--json", env=deployment.env("seed"))
    assert "Indexed" not in on_milvus.stderr
    # The same rankings give the same quality, measure for measure.
    assert _quality(on_milvus) == _quality(run_qabot("eval", "--limit", "20", "--json"))


@pytest.mark.slow
def test_bot_answers_from_milvus(
    milvus_engine: Engine, deployment: Deployment, tmp_path: Path
) -> None:
    from tests.support.telegram_server import BotAPIServer, qabot_bot

    milvus_engine.close()
    env = deployment.env("seed")
    with (
        BotAPIServer() as server,
        qabot_bot("--api-url", server.api_url, log=tmp_path / "stderr", env=env),
    ):
        server.wait_for(lambda c: c.method == "deleteWebhook", timeout=180)
        (reply,) = server.wait_replies(server.send(7, "免费送戏下乡完成了多少场？"))
        assert "§17 · 我省落实今年12件民生实事成效显著 › 免费送戏下乡进村超万场" in reply.text
    assert "Indexed" not in (tmp_path / "stderr").read_text(encoding="utf-8")


# -- builds, with the fake encoder --------------------------------------------------------------


def fake_searcher(index: LoadedIndex) -> Searcher:
    return Searcher(index, FakeEncoder)


def _collections(engine: Engine) -> list[str]:
    """Return the collections of the engine's index directory (a server holds others too)."""
    backend = engine.store()
    assert isinstance(backend, MilvusBackend)
    prefix = new_collection_name(engine.settings.index_dir).rsplit("_", 1)[0] + "_"
    return sorted(c for c in backend.client.list_collections() if c.startswith(prefix))


def test_corpus_change_builds_a_new_collection_and_reuses_vectors(
    fake_engine: tuple[Engine, Path, list[str]],
) -> None:
    engine, corpus, messages = fake_engine
    first = engine.ensure_index()
    assert first.manifest.count == 50 and first.manifest.index_type == "flat"
    (corpus / "more.md").write_text("# 补充\n\n新的一段：青年路明天停水。\n", encoding="utf-8")
    second = engine.ensure_index()
    assert any("has changed since the index was built" in m for m in messages)
    assert any("(1 embedded, 50 reused)" in m for m in messages)
    assert second.manifest.count == 51
    assert second.paragraphs[0].text == "新的一段：青年路明天停水。"  # "more" sorts first
    assert [
        p.paragraph.id for p in fake_searcher(second).search("青年路明天停水", k=1).passages
    ] == ["more#1"]
    old, new = first.vectors, second.vectors
    assert isinstance(old, MilvusStore) and isinstance(new, MilvusStore)
    # The build before stays for searches still using it; the one before that is dropped.
    assert _collections(engine) == sorted([old.collection, new.collection])
    (corpus / "more.md").unlink()
    third = engine.ensure_index()
    assert isinstance(third.vectors, MilvusStore)
    assert _collections(engine) == sorted([new.collection, third.vectors.collection])


def test_a_dropped_collection_is_rebuilt(fake_engine: tuple[Engine, Path, list[str]]) -> None:
    engine, _, messages = fake_engine
    store = engine.ensure_index().vectors
    assert isinstance(store, MilvusStore)
    store.backend.client.drop_collection(store.collection)
    messages.clear()
    index = engine.ensure_index()
    assert any("is gone" in m and "rebuilding" in m for m in messages), messages
    assert index.manifest.count == 50
    assert [p.paragraph.id for p in fake_searcher(index).search("青年路停水", k=1).passages]


def test_ivf_index(fake_engine: tuple[Engine, Path, list[str]]) -> None:
    engine, _, _ = fake_engine
    index = engine.ensure_index(index_type="ivf")
    assert index.manifest.index_type == "ivf"
    store = index.vectors
    assert isinstance(store, MilvusStore)
    assert store.backend.client.describe_index(store.collection, "vector")["index_type"] == (
        "IVF_FLAT"
    )
    assert fake_searcher(index).search("免费送戏下乡", k=1).passages[0].paragraph.number in (16, 17)


def test_a_paragraph_longer_than_a_varchar_is_refused(
    fake_engine: tuple[Engine, Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, corpus, _ = fake_engine
    # The cutter keeps a corpus file's passages to 1,500 characters; the store's own check is
    # for paragraphs that reach it longer (a question set's corpus, a larger cut).
    monkeypatch.setattr(cutter, "MAX_PARAGRAPH_CHARS", 100_000)
    # 22,000 characters: within 65,535 characters (Milvus Lite 3 would take it), but 66,000
    # bytes of UTF-8, which a Milvus server refuses.
    (corpus / "long.md").write_text("长" * 21_999 + "。\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"paragraph long#1 has 66,000 bytes of text.*65,535"):
        engine.ensure_index()
    assert _collections(engine) == []


def test_index_types_follow_the_deployment() -> None:
    lite = MilvusBackend(None, "/tmp/x.db", Path("/tmp/x.db"), quiet)
    server = MilvusBackend(None, "http://milvus:19530", None, quiet)
    assert lite.index_kind(1_000, "auto") == server.index_kind(1_000, "auto") == "flat"
    assert server.index_kind(300_000, "auto") == "hnsw"
    assert lite.index_kind(300_000, "auto") == "ivf"  # Milvus Lite has no HNSW
    with pytest.raises(UsageError) as caught:
        lite.index_kind(1_000, "hnsw")
    assert cli_message(caught.value) == (
        "Milvus Lite builds only flat and ivf indexes, not hnsw; "
        "use --index-type flat or ivf, or a Milvus server"
    )


def test_pages_round_trip(tmp_path: Path) -> None:
    paragraphs = (
        Paragraph("report", 1, "第一章", "青年路明天停水。", (("date", "2023-08-30"),), page=3),
        Paragraph("report", 2, "第一章", "迎泽大街后天停水。"),
        Paragraph("report", 3, "第二章", "免费送戏下乡一万场。", page=12),
    )
    documents = [Document("report", Path("report.pdf"), "报告", paragraphs, "0" * 64)]
    backend = MilvusBackend.connect(str(tmp_path / "pages.db"))
    try:
        built = build_index(tmp_path / "idx", documents, FakeEncoder(), quiet, backend=backend)
        loaded = load_index(tmp_path / "idx", backend)
        assert isinstance(loaded.paragraphs, MilvusParagraphs)
        assert [p.page for p in loaded.paragraphs] == [3, None, 12]
        assert loaded.paragraphs[0:3] == list(paragraphs) == list(built.paragraphs)
    finally:
        backend.close()


class _RecordingClient:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def search(self, name: str, **kwargs: Any) -> list[list[dict[str, Any]]]:
        self.calls.append(kwargs)
        return [[{"id": 3, "distance": 0.5}] for _ in kwargs["data"]]


def test_search_asks_within_the_server_limits() -> None:
    client = _RecordingClient()
    backend = MilvusBackend(client, "http://milvus:19530", None, quiet)
    store = MilvusStore(backend, "c", "hnsw", 1_000_000)
    scores, rows = store.search(np.ones((2, 4), dtype=np.float32), 50_000)
    (call,) = client.calls
    assert call["limit"] == MAX_TOPK == 16_384
    assert call["search_params"] == {"metric_type": "IP", "params": {"ef": 16_384}}
    assert call["output_fields"] == ["id"]
    assert rows.shape == (2, MAX_TOPK) and rows[0, 0] == 3 and rows[0, 1] == -1
    assert scores[0, 0] == pytest.approx(0.5)


# -- errors a person sees -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "error", "message"),
    [
        ("ftp://milvus:19530", UsageError, "has scheme 'ftp'; use http://host:19530"),
        ("{tmp}/milvus", UsageError, "neither a server .* nor a Milvus Lite file"),
        ("{tmp}/bad name.db", UsageError, "neither a server .* nor a Milvus Lite file"),
        ("{tmp}/" + "x" * 40 + ".db", UsageError, "at most 36 letters"),
    ],
)
def test_bad_uri_errors(tmp_path: Path, uri: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        MilvusBackend.connect(uri.format(tmp=tmp_path))


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_server_is_one_clear_line() -> None:
    uri = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(MilvusError) as caught:
        MilvusBackend.connect(uri, timeout=2, wait=0)
    assert re.search(rf"^cannot reach Milvus at {uri} .*--milvus-uri", cli_message(caught.value))


@pytest.fixture
def rejecting_server() -> Iterator[str]:
    """A gRPC server on 127.0.0.1 that refuses every call as Milvus does a wrong token."""
    import grpc

    class Reject(grpc.GenericRpcHandler):
        def service(self, handler_call_details: Any) -> Any:
            def reject(request: bytes, context: Any) -> None:
                context.abort(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "auth check failure, please check api key is correct",
                )

            return grpc.unary_unary_rpc_method_handler(reject)

    server = grpc.server(ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((Reject(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"http://user:secret@127.0.0.1:{port}"
    server.stop(grace=None)


def test_rejected_token_is_one_clear_line(rejecting_server: str) -> None:
    with pytest.raises(MilvusError) as caught:
        MilvusBackend.connect(rejecting_server, token="root:wrong", timeout=5)
    message = cli_message(caught.value)
    assert message.endswith(
        "refused the credentials (it says: auth check failure, please check api key is "
        "correct); check QABOT_MILVUS_TOKEN"
    )
    assert "secret" not in message and "wrong" not in message  # credentials never shown


def test_lite_file_in_use_by_another_process(tmp_path: Path) -> None:
    db = tmp_path / "busy.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-W",
            "ignore",
            "-c",
            "import sys, time; from pymilvus import MilvusClient; "
            f"MilvusClient({str(db)!r}); print('open', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(MilvusError, match="open in another process .* one process at a time"):
            MilvusBackend.connect(str(db))
    finally:
        holder.kill()
        holder.wait()


def test_missing_pymilvus_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pymilvus", None)
    with pytest.raises(MilvusError) as caught:
        open_backend("milvus", "http://127.0.0.1:19530")
    assert cli_message(caught.value) == (
        "pymilvus is not installed; run: pip install 'qabot[milvus]'"
    )


def test_settings_from_flags_and_environment(tmp_path: Path) -> None:
    env = {"QABOT_HOME": str(tmp_path), "QABOT_MILVUS_TOKEN": "root:Milvus"}
    plain = load_settings(environ=env)
    assert plain.backend == "faiss"
    by_flag = load_settings(milvus_uri="q.db", environ=env)  # a URI flag implies milvus
    assert by_flag.backend == "milvus" and by_flag.milvus_uri == str(Path("q.db").resolve())
    assert by_flag.milvus_token == "root:Milvus" and "Milvus'" not in repr(by_flag)
    by_env = load_settings(environ={**env, "QABOT_BACKEND": "milvus"})
    assert by_env.vector_uri == str(tmp_path / "milvus" / "milvus.db")
    server = load_settings(
        environ={**env, "QABOT_BACKEND": "milvus", "QABOT_MILVUS_URI": "http://m:19530"}
    )
    assert server.vector_uri == "http://m:19530"
    # Each deployment has its own local half; FAISS keeps the directory it always had.
    assert len({plain.index_dir, by_flag.index_dir, by_env.index_dir, server.index_dir}) == 4
    assert plain.index_dir == Settings(home=tmp_path).index_dir
    with pytest.raises(UsageError, match="unknown backend 'pinecone'"):
        load_settings(environ={**env, "QABOT_BACKEND": "pinecone"})


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["--milvus-uri", "ftp://x/y"], 2, "error: the Milvus URI 'ftp://x/y' has scheme 'ftp'"),
        (["--milvus-uri", "http://127.0.0.1:{port}"], 1, "error: cannot reach Milvus at"),
    ],
)
def test_cli_errors_are_one_line(
    argv: list[str],
    status: int,
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("retrieval.store.milvus.connection.CONNECT_TIMEOUT", 2.0)
    monkeypatch.setattr("retrieval.store.milvus.connection.READY_WAIT", 0.0)
    argv = [a.format(port=_free_port()) for a in argv]
    started = time.monotonic()
    assert main(["ask", "停水", *argv]) == status
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err
    assert time.monotonic() - started < 30
