"""The bot's Application run in a thread of the test process, as `qabot bot` runs it."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from typing import Any

from bot.telegram.app import build_application, run
from bot.telegram.settings import BUNDLED_EXAMPLES, BotSettings
from retrieval.engine import Engine
from tests.support.telegram_server import BotAPIServer


class RunningBot:
    """The bot's Application run as `qabot bot` runs it, in a thread with its own event loop."""

    def __init__(self, server: BotAPIServer, engine: Engine, **settings: Any) -> None:
        base = BotSettings(token=server.token, api_url=server.api_url, examples=BUNDLED_EXAMPLES)
        self.settings = replace(base, **settings)
        self.server, self.engine = server, engine
        self._loop: asyncio.AbstractEventLoop | None = None
        self._app: Any = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._app = build_application(self.settings, self.engine)
        run(self._app, self.settings, handle_signals=False)

    def __enter__(self) -> RunningBot:
        started = time.monotonic()
        self._thread.start()
        # deleteWebhook comes just before polling starts (a getUpdates is logged when it ends).
        self.server.wait_for(lambda c: c.method == "deleteWebhook" and c.at >= started, timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._app is not None
        self._loop.call_soon_threadsafe(self._app.stop_running)
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "the bot did not stop"
