"""The Milvus backend against a real Milvus server over TCP: authentication, and faults.

The server (tests/support/milvus_server.py) runs with authorization on, in a network
namespace of its own, reached on 127.0.0.1. The same tests as on Milvus Lite (same answers
as FAISS, rebuilds, persistence, CLI and bot) run on it in tests/test_milvus.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.telegram.format import ERROR, STORE_DOWN
from retrieval.config import Settings, load_settings
from retrieval.engine import Engine
from retrieval.store.milvus import MilvusBackend, MilvusStore
from retrieval.store.milvus.state import read_state
from tests.conftest import REPO, SEED, FakeEncoder, run_qabot
from tests.support.milvus_server import ROOT_TOKEN, MilvusServer, unavailable

REASON = unavailable()
pytestmark = [
    pytest.mark.milvus_server,
    pytest.mark.skipif(REASON is not None, reason=f"no Milvus server: {REASON}"),
]

QUESTION = "今年计划免费送戏下乡多少场？"
# What the bot says when it cannot answer: Milvus unreachable, or any other failure.
APOLOGIES = (STORE_DOWN, ERROR)
# An answer from the bundled page, as the bot shows its citation.
CITATION = "§17 · 我省落实今年12件民生实事成效显著 › 免费送戏下乡进村超万场"
# A user of the test's own: its password appears nowhere else (unlike root's "Milvus").
USER, PASSWORD = "qabot", "Tok3n-never-Shown-42"


@pytest.fixture(autouse=True)
def server_up_again(request: pytest.FixtureRequest) -> Iterator[None]:
    """Start the module's server again after a test that killed it and failed before."""
    yield
    if "server" in request.fixturenames:
        server = request.getfixturevalue("server")
        if server.pid is None:
            server.start()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusServer]:
    """One server with authorization on, its own user added, for the module's tests."""
    from pymilvus import MilvusClient

    with MilvusServer(tmp_path_factory.mktemp("milvus-server"), auth=True) as server:
        server.start()
        client = MilvusClient(uri=server.uri, token=ROOT_TOKEN)
        client.create_user(USER, PASSWORD)
        client.grant_role(USER, "admin")
        client.close()
        yield server


def _env(server: MilvusServer, token: str = ROOT_TOKEN, **more: str) -> dict[str, str]:
    return {
        "QABOT_BACKEND": "milvus",
        "QABOT_MILVUS_URI": server.uri,
        "QABOT_MILVUS_TOKEN": token,
        **more,
    }


def _index_dir(corpus: Path, env: dict[str, str]) -> Path:
    return load_settings(corpus=[str(corpus)], environ={**os.environ, **env}).index_dir


def _answers(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [f"{a['doc']}#{a['paragraph']}" for a in json.loads(result.stdout)["answers"]]


class Watched:
    """A qabot process whose stderr is read line by line as it comes."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", *args],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            if text in line:
                return
            if time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f"no {text!r} in {timeout} s; stderr: {''.join(self.stderr)}")

    def finish(self, timeout: float) -> tuple[int, str, str]:
        # Not communicate(): it would read stderr too, taking lines from the reader thread.
        assert self.process.stdout is not None
        self.process.wait(timeout=timeout)
        stdout = self.process.stdout.read()
        self._reader.join(timeout=10)  # it reads stderr to the end
        return self.process.returncode, stdout, "".join(self.stderr)


# -- authentication -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "refusal"),
    [
        (
            "root:wrong-password",
            "refused the credentials (it says: auth check failure, please check username "
            "and password are correct)",
        ),
        ("", "asks for credentials and was given none (it says: missing authorization in header)"),
    ],
)
def test_wrong_or_missing_token_is_one_line(server: MilvusServer, token: str, refusal: str) -> None:
    result = run_qabot("ask", QUESTION, env=_env(server, token))
    assert result.returncode == 1
    assert result.stderr == (f"error: Milvus at {server.uri} {refusal}; check QABOT_MILVUS_TOKEN\n")
    assert not token or "wrong-password" not in result.stderr


def test_token_never_in_output_logs_or_files(
    server: MilvusServer, corpus: Path, default_model: Path
) -> None:
    token = f"{USER}:{PASSWORD}"
    env = _env(server, token)
    wrong = {**env, "QABOT_MILVUS_TOKEN": f"{USER}:x{PASSWORD}"}
    outputs = [
        run_qabot("index", "--corpus", str(corpus), "--debug", env=env),
        run_qabot("ask", QUESTION, "--corpus", str(corpus), "--debug", env=env),
        run_qabot("ask", QUESTION, "--corpus", str(corpus), "--debug", env=wrong),
    ]
    assert [r.returncode for r in outputs] == [0, 0, 1], outputs[-1].stderr
    assert "refused the credentials" in outputs[-1].stderr
    # Neither the password nor pymilvus' MD5 of the token (a connection's name) is shown.
    secrets = [PASSWORD, hashlib.md5(token.encode()).hexdigest()]
    for result in outputs:
        for secret in secrets:
            assert secret not in result.stdout + result.stderr
    # Nor written into the index directory or beside it.
    for path in _index_dir(corpus, env).parent.rglob("*"):
        if path.is_file() and path.stat().st_size < 50_000_000:
            data = path.read_bytes()
            assert not any(s.encode() in data for s in secrets), path


# -- faults -------------------------------------------------------------------------------------


def test_waits_for_a_server_that_is_not_ready_yet(
    corpus: Path, tmp_path: Path, default_model: Path
) -> None:
    with MilvusServer(tmp_path / "late") as late:
        asking = Watched(
            "ask", QUESTION, "--json", "--corpus", str(corpus), env=_env(late, token="")
        )
        asking.wait_for("is not answering yet; trying again for up to 30 s", timeout=40)
        late.start(wait=False)
        status, stdout, stderr = asking.finish(timeout=120)
    assert status == 0, stderr
    assert json.loads(stdout)["answers"][0]["paragraph"] == 16
    assert stderr.count("not answering yet") == 1


def test_server_killed_during_index(
    server: MilvusServer, corpus: Path, default_model: Path
) -> None:
    env = _env(server)
    assert run_qabot("index", "--corpus", str(corpus), env=env).returncode == 0
    before = _answers(run_qabot("ask", QUESTION, "--json", "--corpus", str(corpus), env=env))
    index_dir = _index_dir(corpus, env)
    published = read_state(index_dir)["collection"]
    # A second document: the next build writes a new collection, and is killed doing it.
    _second_document(corpus / "more.md")
    indexing = Watched("index", "--corpus", str(corpus), env=env)
    indexing.wait_for("Writing", timeout=120)
    server.kill()
    status, _, stderr = indexing.finish(timeout=180)
    assert status == 1, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: cannot reach Milvus at {server.uri} (is the server running and the address "
        "right?); check --milvus-uri or QABOT_MILVUS_URI"
    ], stderr
    assert read_state(index_dir)["collection"] == published  # the index directory is as before
    server.start()
    # The previous build serves the corpus it was built from.
    (corpus / "more.md").unlink()
    again = run_qabot("ask", QUESTION, "--json", "--corpus", str(corpus), env=env)
    assert _answers(again) == before
    assert "Indexed" not in again.stderr
    # The next build drops what the killed one left on the server.
    _second_document(corpus / "more.md")
    assert run_qabot("index", "--corpus", str(corpus), env=env).returncode == 0
    state = read_state(index_dir)
    backend = MilvusBackend.connect(server.uri, ROOT_TOKEN)
    try:
        prefix = str(state["collection"]).rsplit("_", 1)[0] + "_"
        mine = {c for c in backend.client.list_collections() if c.startswith(prefix)}
    finally:
        backend.close()
    assert mine == {state["collection"], published}


def _second_document(path: Path) -> None:
    """Write a second document as long as the page (a copy of it would be skipped as one)."""
    path.write_text(SEED.read_text(encoding="utf-8") + "\n\n另一份文档的一段。\n", encoding="utf-8")


def _ask(telegram: Any, text: str) -> str:
    """Ask the bot in chat 7; return its reply: an answer, or an apology (APOLOGIES)."""
    apologies = len([c for c in telegram.calls if c.status == 200 and c.text in APOLOGIES])
    asked = telegram.send(7, text)
    found = telegram.wait_for(
        lambda c: (
            c.method == "sendMessage"
            and c.chat_id == 7
            and (c.reply_to == asked["message_id"] or c.text in APOLOGIES)
        ),
        count=apologies + 1,
        timeout=150,
    )
    return str(found[-1].text)


def test_bot_when_the_server_is_killed_between_questions(
    server: MilvusServer, corpus: Path, tmp_path: Path, default_model: Path
) -> None:
    from tests.support.telegram_server import BotAPIServer, qabot_bot

    env = _env(server, QABOT_CORPUS=str(corpus))
    assert run_qabot("index", "--corpus", str(corpus), env=env).returncode == 0
    with (
        BotAPIServer() as telegram,
        qabot_bot("--api-url", telegram.api_url, log=tmp_path / "log", env=env) as bot,
    ):
        telegram.wait_for(lambda c: c.method == "deleteWebhook", timeout=180)
        assert CITATION in _ask(telegram, QUESTION)
        server.kill()
        started = time.monotonic()
        assert _ask(telegram, "迎泽大街什么时候停水？") == STORE_DOWN
        assert time.monotonic() - started < 60  # the search gives up (READ_TIMEOUT)
        assert bot.poll() is None  # still running
        server.start()
        # Back: the collection is loaded again on the first search. A server just up after a
        # crash may still be busy recovering: the bot apologises meanwhile, then answers.
        replies = [_ask(telegram, QUESTION)]
        while replies[-1] in APOLOGIES and len(replies) < 3:
            replies.append(_ask(telegram, QUESTION))
        assert CITATION in replies[-1], replies
        assert bot.poll() is None
    log = (tmp_path / "log").read_text(encoding="utf-8")
    assert "cannot reach Milvus" in log


def test_collection_of_another_schema_is_rebuilt(
    server: MilvusServer, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pymilvus import DataType, MilvusClient

    fake = FakeEncoder()
    monkeypatch.setattr("retrieval.engine.load_encoder", lambda *_args, **_kw: fake)
    settings = Settings(
        corpus=(corpus,),
        home=tmp_path / "home",
        model=fake.model,
        backend="milvus",
        milvus_uri=server.uri,
        milvus_token=ROOT_TOKEN,
    )
    engine = Engine(settings, say=lambda _: None)
    store = engine.ensure_index().vectors
    assert isinstance(store, MilvusStore)
    record = json.loads(store.backend.client.describe_collection(store.collection)["description"])
    engine.close()
    # The same collection as an older qabot made it: no page field, schema 1 in its record.
    client = MilvusClient(uri=server.uri, token=ROOT_TOKEN)
    client.drop_collection(store.collection)
    old = json.dumps({**record, "qabot_schema": 1})
    schema = MilvusClient.create_schema(auto_id=False, description=old)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=fake.dim)
    schema.add_field("text", DataType.VARCHAR, max_length=1000)
    client.create_collection(store.collection, schema=schema)
    client.close()
    messages: list[str] = []
    engine = Engine(settings, say=messages.append)
    try:
        index = engine.ensure_index()
        rebuilt = [m for m in messages if "rebuilding it" in m]
        assert rebuilt == [
            f"The index cannot be used (the Milvus collection {store.collection} does not "
            "match its index directory (qabot_schema differ)); rebuilding it."
        ]
        assert isinstance(index.vectors, MilvusStore)
        assert index.vectors.collection != store.collection
        info = index.vectors.backend.client.describe_collection(index.vectors.collection)
        assert json.loads(info["description"])["qabot_schema"] == 2
        top = engine.searcher.search("免费送戏下乡", k=1).passages[0].paragraph
        assert top.number in (16, 17)
    finally:
        engine.close()
