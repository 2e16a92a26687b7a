"""A small Telegram Bot API server on 127.0.0.1: the bot under test talks to it over real HTTP.

The tests play the users: they add updates (messages, button presses, inline queries) and read
the calls the bot made. The server answers in Telegram's JSON shapes (dates in seconds),
long-polls getUpdates, delivers to a webhook when one is set, checks the HTML and limits of
what the bot sends, and can be told to fail calls (429 with retry_after, 502, 400).
"""

from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BOT_ID = 7000001
BOT_USERNAME = "qabot_test_bot"
TOKEN = f"{BOT_ID}:AAE-test-token-for-the-local-server-only"
BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "QA Bot",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}
MESSAGE_LIMIT = 4096
CALLBACK_LIMIT = 64
# Fields the Bot API takes as JSON inside a form-encoded request.
JSON_FIELDS = frozenset(
    "reply_markup reply_parameters results commands link_preview_options allowed_updates "
    "button entities scope".split()
)
HTML_TAGS = frozenset(
    "b strong i em u ins s strike del span tg-spoiler a code pre blockquote tg-emoji".split()
)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:=\"[^\"]*\")?)*)\s*>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")
_COMMAND = re.compile(r"^/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")
_MENTION = re.compile(r"@[A-Za-z0-9_]{5,32}")
FAULTS: dict[int, dict[str, Any]] = {
    400: {"ok": False, "error_code": 400, "description": "Bad Request: injected by the test"},
    429: {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    },
    502: {"ok": False, "error_code": 502, "description": "Bad Gateway"},
}


# A "status" for a call whose connection was dropped before the server answered.
DROPPED = 0
# The calls a running bot makes; start-up calls (getMe, setMyCommands...) are left alone.
RANDOM_FAULT_METHODS = frozenset(
    "getUpdates sendMessage editMessageText editMessageReplyMarkup answerCallbackQuery "
    "answerInlineQuery sendChatAction".split()
)


class ApiError(Exception):
    """A request the real Bot API would refuse with 400 Bad Request."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> str:
    """Return the plain text of Telegram HTML, or raise ApiError where Telegram would."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            match = _TAG.match(text, i)
            if not match:
                raise ApiError(f"can't parse entities: unexpected '<' at offset {i}")
            closing, name = match.group(1), match.group(2).lower()
            if name not in HTML_TAGS:
                raise ApiError(f'can\'t parse entities: unsupported start tag "{name}"')
            if closing:
                if not stack or stack[-1] != name:
                    raise ApiError(f'can\'t parse entities: unmatched end tag "{name}"')
                stack.pop()
            else:
                stack.append(name)
            i = match.end()
        elif ch == "&":
            match = _ENTITY.match(text, i)
            if not match:
                raise ApiError(f"can't parse entities: unescaped '&' at offset {i}")
            out.append(html.unescape(match.group(0)))
            i = match.end()
        elif ch == ">":
            raise ApiError(f"can't parse entities: unescaped '>' at offset {i}")
        else:
            out.append(ch)
            i += 1
    if stack:
        raise ApiError(f'can\'t parse entities: unclosed start tag "{stack[-1]}"')
    return "".join(out)


def _entities(text: str) -> list[dict[str, Any]]:
    """Return the bot_command and mention entities Telegram would attach (UTF-16 offsets)."""
    found = []
    command = _COMMAND.match(text)
    if command:
        found.append(("bot_command", command.start(), command.end()))
    found += [("mention", m.start(), m.end()) for m in _MENTION.finditer(text)]
    return [
        {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(text[start:end])}
        for kind, start, end in found
    ]


def _shallow(message: dict[str, Any]) -> dict[str, Any]:
    """A message as Telegram nests it in another: without its own reply_to_message."""
    return {k: v for k, v in message.items() if k != "reply_to_message"}


@dataclass
class Call:
    """One request the bot made: method, parameters, when it arrived, what it got."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    result: Any = None

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def reply_to(self) -> int | None:
        reply = self.params.get("reply_parameters") or {}
        return reply.get("message_id")

    def buttons(self) -> list[dict[str, Any]]:
        markup = self.params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    api: BotAPIServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the body would wait for the
    # client's delayed ACK, adding ~40 ms to every call.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def do_POST(self) -> None:
        try:
            self.server.api.serve(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the bot gave up on a long poll while it was stopping

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


class BotAPIServer:
    """A Bot API server for one bot, on 127.0.0.1, with users played by the test."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self._cond = threading.Condition()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, Iterator[int]] = {}
        self._ids = itertools.count(1)
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self.sent_at: dict[tuple[int, int], float] = {}
        self.callback_answers: dict[str, bool] = {}
        self.commands: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] = {}
        self.deliveries: list[int] = []
        self._faults: dict[str, deque[int]] = {}
        self._fault_rate = 0.0
        self._fault_rng = random.Random(0)
        self._closing = False
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.api = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._delivery = threading.Thread(target=self._deliver, daemon=True)

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def api_url(self) -> str:
        """The URL to give the bot as --api-url (python-telegram-bot's base_url)."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> BotAPIServer:
        self._thread.start()
        self._delivery.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> BotAPIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_randomly(self, rate: float, seed: int = 0) -> None:
        """Fail this share of the bot's calls from now on: 429, 502 or a dropped connection."""
        with self._cond:
            self._fault_rate = rate
            self._fault_rng = random.Random(seed)

    def fail(self, method: str, *codes: int) -> None:
        """Answer the next calls of method with these HTTP errors, in order (429, 502, 400)."""
        with self._cond:
            self._faults.setdefault(method, deque()).extend(codes)

    # -- the users' side ----------------------------------------------------------------------

    @staticmethod
    def user(user_id: int) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": f"User{user_id}",
            "language_code": "zh",
        }

    @staticmethod
    def group(chat_id: int, title: str = "测试群", forum: bool = False) -> dict[str, Any]:
        """A supergroup; a forum (with topics) if asked: send in a topic with
        `message_thread_id=N, is_topic_message=True`."""
        chat = {"id": chat_id, "type": "supergroup", "title": title}
        return {**chat, "is_forum": True} if forum else chat

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _push(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates, or for delivery to the webhook when one is set."""
        with self._cond:
            update = {"update_id": next(self._update_ids), **update}
            self._updates.append(update)
            self._cond.notify_all()

    def _deliver(self) -> None:
        """Post queued updates to the webhook in order, retrying until it answers (as Telegram)."""
        while True:
            with self._cond:
                while not self._closing and not (self.webhook and self._updates):
                    self._cond.wait()
                if self._closing:
                    return
                update, webhook = self._updates[0], dict(self.webhook)
            request = urllib.request.Request(
                webhook["url"],
                data=json.dumps(update).encode(),
                headers={
                    "Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": webhook.get("secret_token", ""),
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:  # not listening yet (the bot sets the webhook, then listens)
                time.sleep(0.1)
                continue
            with self._cond:
                self.deliveries.append(status)
                if self._updates and self._updates[0] is update:
                    self._updates.pop(0)

    def send(
        self,
        user_id: int,
        text: str | None = None,
        chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
        **content: Any,
    ) -> dict[str, Any]:
        """Send a message from a user (a private chat unless chat is given); return it."""
        user = self.user(user_id)
        chat = chat or {"id": user_id, "type": "private", "first_name": user["first_name"]}
        with self._cond:
            self.chats[chat["id"]] = chat
            message: dict[str, Any] = {
                "message_id": self._next_message_id(chat["id"]),
                "from": user,
                "chat": chat,
                "date": int(time.time()),
            }
            if text is not None:
                message["text"] = text
                if _entities(text):
                    message["entities"] = _entities(text)
            message.update(content)
            if reply_to is not None:
                message["reply_to_message"] = _shallow(self.message(reply_to))
            key = (chat["id"], message["message_id"])
            self.messages[key] = message
            self.sent_at[key] = time.monotonic()
        self._push({"message": message})
        return message

    def message(self, message: dict[str, Any]) -> dict[str, Any]:
        """Return the current state of a message (the bot may have edited it)."""
        with self._cond:
            return self.messages[(message["chat"]["id"], message["message_id"])]

    def press(self, user_id: int, message: dict[str, Any], label: str) -> str:
        """Press the button of a message whose label starts with label; return the query id."""
        current = self.message(message)
        rows = (current.get("reply_markup") or {}).get("inline_keyboard", [])
        buttons = [b for row in rows for b in row if b["text"].startswith(label)]
        assert buttons, f"no button {label!r} under message: {rows}"
        return self.press_data(user_id, current, buttons[0]["callback_data"])

    def press_data(self, user_id: int, message: dict[str, Any], data: str) -> str:
        """Press a button with this callback data under the message as it is now (a button
        the bot may never have made); return the query id."""
        current = self.message(message)
        query_id = str(next(self._ids))
        with self._cond:
            self.callback_answers[query_id] = False
        self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.user(user_id),
                    "message": current,
                    "chat_instance": str(current["chat"]["id"]),
                    "data": data,
                }
            }
        )
        return query_id

    def inline(self, user_id: int, query: str, offset: str = "") -> str:
        """Type `@bot query` in some chat; return the inline query id."""
        query_id = str(next(self._ids))
        self._push(
            {
                "inline_query": {
                    "id": query_id,
                    "from": self.user(user_id),
                    "query": query,
                    "offset": offset,
                    "chat_type": "sender",
                }
            }
        )
        return query_id

    # -- reading what the bot did -------------------------------------------------------------

    def wait_for(
        self, match: Callable[[Call], bool], count: int = 1, timeout: float = 20.0
    ) -> list[Call]:
        """Wait until `count` successful calls match; return them (fail after timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if c.status == 200 and match(c)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    recent = [(c.method, c.status, c.params) for c in self.calls[-8:]]
                    raise AssertionError(
                        f"waited {timeout} s for {count} matching calls, saw {len(found)}; "
                        f"the last calls: {recent}"
                    )
                self._cond.wait(remaining)

    def done(self, method: str, **params: Any) -> list[Call]:
        """Return the successful calls of method whose parameters include these values."""
        with self._cond:
            return [
                c
                for c in self.calls
                if c.method == method
                and c.status == 200
                and all(str(c.params.get(k)) == str(v) for k, v in params.items())
            ]

    def replies(self, message: dict[str, Any]) -> list[Call]:
        """Return the messages the bot sent in reply to this one."""
        return [
            c
            for c in self.done("sendMessage", chat_id=message["chat"]["id"])
            if c.reply_to == message["message_id"]
        ]

    def wait_sent(
        self, message: dict[str, Any], count: int = 1, timeout: float = 20.0
    ) -> list[Call]:
        """Wait for messages sent to the chat of message since it was sent (replies or not)."""
        chat_id = message["chat"]["id"]
        since = self.sent_at[(chat_id, message["message_id"])]
        return self.wait_for(
            lambda c: c.method == "sendMessage" and c.chat_id == chat_id and c.at >= since,
            count,
            timeout,
        )

    def wait_replies(
        self, message: dict[str, Any], count: int = 1, timeout: float = 20.0
    ) -> list[Call]:
        chat_id, message_id = message["chat"]["id"], message["message_id"]
        return self.wait_for(
            lambda c: (
                c.method == "sendMessage" and c.chat_id == chat_id and c.reply_to == message_id
            ),
            count,
            timeout,
        )

    # -- the Bot API --------------------------------------------------------------------------

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        arrived = time.monotonic()
        url = urlsplit(request.path)
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        route = re.fullmatch(r"/bot([^/]+)/(\w+)", url.path)
        if route is None:
            self._reply(request, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        token, method = route.groups()
        if token != self.token:
            payload = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            self._reply(request, 401, payload)
            return
        params = self._decode(request.headers.get("Content-Type", ""), body, url.query)
        with self._cond:
            faults = self._faults.get(method)
            fault = faults.popleft() if faults else None
            if fault is None and self._fault_rate and method in RANDOM_FAULT_METHODS:
                if self._fault_rng.random() < self._fault_rate:
                    fault = self._fault_rng.choice((429, 502, DROPPED))
            if fault is not None:
                self.calls.append(Call(method, params, arrived, fault))
                self._cond.notify_all()
        if fault == DROPPED:
            # The connection breaks before the request is read: nothing was done, as when a
            # network drops a request on its way to Telegram.
            request.close_connection = True
            return
        if fault is not None:
            self._reply(request, fault, FAULTS[fault])
            return
        handler = getattr(self, f"api_{method}", None)
        if handler is None:
            payload = {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
            self._reply(request, 404, payload)
            return
        try:
            result = handler(params)
        except ApiError as exc:
            status, payload = (
                400,
                {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"},
            )
        else:
            status, payload = 200, {"ok": True, "result": result}
        with self._cond:
            self.calls.append(Call(method, params, arrived, status, payload.get("result")))
            self._cond.notify_all()
        self._reply(request, status, payload)

    @staticmethod
    def _decode(content_type: str, body: bytes, query: str) -> dict[str, Any]:
        if "application/json" in content_type:
            return dict(json.loads(body or b"{}"))
        if "multipart" in content_type:
            raise AssertionError("the test server does not take file uploads")
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True) + parse_qsl(query)
        return {k: json.loads(v) if k in JSON_FIELDS else v for k, v in pairs}

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return BOT_USER

    def api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 50.0)
        with self._cond:
            if self.webhook:
                raise ApiError("can't use getUpdates method while webhook is active")
            while True:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                remaining = deadline - time.monotonic()
                if self.webhook or self._closing or remaining <= 0:
                    return []
                if self._updates:
                    return self._updates[:limit]
                self._cond.wait(remaining)

    def api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        with self._cond:
            self.webhook = {}
            if str(params.get("drop_pending_updates")).lower() == "true":
                self._updates = []
        return True

    def api_setWebhook(self, params: dict[str, Any]) -> bool:
        secret = str(params.get("secret_token", ""))
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError("secret token contains unallowed characters")
        with self._cond:
            self.webhook = {"url": str(params["url"]), "secret_token": secret}
            self._cond.notify_all()
        return True

    def api_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = params["commands"]
        for c in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", c["command"]) or not c["description"]:
                raise ApiError(f"BOT_COMMAND_INVALID: {c}")
        with self._cond:
            self.commands = commands
        return True

    def api_sendChatAction(self, params: dict[str, Any]) -> bool:
        return True

    def _check_text(self, text: str, parse_mode: str | None) -> str:
        plain = parse_html(text) if parse_mode == "HTML" else text
        if not plain.strip():
            raise ApiError("message text is empty")
        if utf16_len(plain) > MESSAGE_LIMIT:
            raise ApiError("message is too long")
        return plain

    @staticmethod
    def _check_markup(markup: dict[str, Any] | None) -> None:
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise ApiError("BUTTON_TEXT_EMPTY")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode("utf-8")) <= CALLBACK_LIMIT:
                    raise ApiError("BUTTON_DATA_INVALID")

    def api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        plain = self._check_text(str(params["text"]), params.get("parse_mode"))
        self._check_markup(params.get("reply_markup"))
        with self._cond:
            message: dict[str, Any] = {
                "message_id": self._next_message_id(chat_id),
                "from": BOT_USER,
                "chat": self.chats.get(chat_id, {"id": chat_id, "type": "private"}),
                "date": int(time.time()),
                "text": plain,
            }
            thread = params.get("message_thread_id")
            if thread is not None:
                if not message["chat"].get("is_forum"):
                    raise ApiError("message thread not found")
                message["message_thread_id"] = int(thread)
                message["is_topic_message"] = True
            reply = params.get("reply_parameters")
            if reply:
                target = self.messages.get((chat_id, int(reply["message_id"])))
                if target is not None:
                    message["reply_to_message"] = _shallow(target)
                elif not reply.get("allow_sending_without_reply"):
                    raise ApiError("message to be replied not found")
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            self.messages[(chat_id, message["message_id"])] = message
            return message

    def _edit(self, params: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> Any:
        if params.get("inline_message_id"):
            return True
        key = (int(params["chat_id"]), int(params["message_id"]))
        with self._cond:
            if key not in self.messages:
                raise ApiError("message to edit not found")
            edited = dict(self.messages[key])
            change(edited)
            if edited == self.messages[key]:
                raise ApiError("message is not modified")
            edited["edit_date"] = int(time.time())
            self.messages[key] = edited
            return edited

    def api_editMessageText(self, params: dict[str, Any]) -> Any:
        plain = self._check_text(str(params["text"]), params.get("parse_mode"))
        self._check_markup(params.get("reply_markup"))

        def change(message: dict[str, Any]) -> None:
            message["text"] = plain
            message.pop("reply_markup", None)
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]

        return self._edit(params, change)

    def api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        self._check_markup(params.get("reply_markup"))

        def change(message: dict[str, Any]) -> None:
            message.pop("reply_markup", None)
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]

        return self._edit(params, change)

    def api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id = str(params["callback_query_id"])
        if len(str(params.get("text", ""))) > 200:
            raise ApiError("MESSAGE_TOO_LONG")
        with self._cond:
            if self.callback_answers.get(query_id, True):
                raise ApiError(
                    "query is too old and response timeout expired or query ID is invalid"
                )
            self.callback_answers[query_id] = True
        return True

    def api_answerInlineQuery(self, params: dict[str, Any]) -> bool:
        results = params.get("results") or []
        if len(results) > 50:
            raise ApiError("RESULTS_TOO_MUCH")
        ids = [r["id"] for r in results]
        if len(set(ids)) != len(ids) or any(len(i.encode()) > 64 for i in ids):
            raise ApiError("RESULT_ID_INVALID")
        for result in results:
            if result["type"] != "article" or not result.get("title"):
                raise ApiError("RESULT_INVALID")
            content = result["input_message_content"]
            self._check_text(content["message_text"], content.get("parse_mode"))
        return True


REPO = Path(__file__).resolve().parents[1]


@contextmanager
def qabot_bot(
    *args: str, log: Path, env: Mapping[str, str] | None = None, token: str | None = TOKEN
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `python -m bot.cli.main bot ARGS` as a real process; stop it with Ctrl-C (SIGINT) after.

    Its output goes to `log`. `env` adds to (or overrides) this process's environment; the
    token is set from `token`, or left out when it is None.
    """
    from bot.telegram.settings import ENV_TOKEN

    environment = {k: v for k, v in os.environ.items() if k != ENV_TOKEN}
    environment.update(env or {})
    if token is not None:
        environment[ENV_TOKEN] = token
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "bot", *args],
            cwd=REPO,
            env=environment,
            stdout=out,
            stderr=out,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
