"""A connection to one Milvus deployment (a server or a Milvus Lite file), its calls checked."""

from __future__ import annotations

import contextlib
import logging
import math
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from retrieval.errors import QabotError, Remedy, UsageError
from retrieval.progress import Say
from retrieval.store.milvus.errors import MilvusError, display_uri, translate
from retrieval.store.milvus.lite import (
    HideLiteLog,
    check_lite_path,
    lite_closed,
    lite_in_use,
    lite_opened,
)

logger = logging.getLogger(__name__)

INSTALL_PACKAGE = "qabot[milvus]"
SERVER_SCHEMES = ("http", "https", "tcp", "grpc", "unix")
CONNECT_TIMEOUT = 10.0
CALL_TIMEOUT = 60
# Searches and paragraph reads give up sooner: a bot says Milvus is unavailable after this,
# not a minute later (pymilvus retries an unreachable server until the timeout).
READ_TIMEOUT = 10
# How long a connection waits for a server that is not answering yet (one that is starting
# accepts connections seconds before it serves them).
READY_WAIT = 30.0

_Connection = TypeVar("_Connection", bound="MilvusConnection")


def import_pymilvus(lite: bool) -> Any:
    """Import pymilvus (and Milvus Lite), and quiet their logs unless debugging.

    Raises:
        MilvusError: they are not installed, with the install remedy.
    """
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
                "Milvus Lite 2.5 needs pkg_resources, which setuptools 81 removed",
                remedy=Remedy.INSTALL,
                data={"package": "setuptools<81"},
            ) from exc
        what = "Milvus Lite" if lite and exc.name and "milvus_lite" in exc.name else "pymilvus"
        raise MilvusError(
            f"{what} is not installed", remedy=Remedy.INSTALL, data={"package": INSTALL_PACKAGE}
        ) from exc
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


def _lite_path(uri: str) -> Path | None:
    """Return the Milvus Lite file a URI names, or None for a server address."""
    scheme = urlsplit(uri).scheme.lower()
    if scheme and scheme not in SERVER_SCHEMES and len(scheme) > 1:
        raise UsageError(
            f"the Milvus URI {display_uri(uri)!r} has scheme {scheme!r}; use "
            "http://host:19530 (or https://) for a server, or a path ending in .db for "
            "Milvus Lite"
        )
    return None if scheme else check_lite_path(uri)


def _client(uri: str, lite_path: Path | None, token: str, timeout: float) -> Any:
    """Return a pymilvus client of a server, or of a Milvus Lite server started on the file."""
    # pymilvus names a connection after the URI and an MD5 of the token, and logs that
    # name: a name of qabot's own keeps even a hash of the token out of every log.
    alias = {} if lite_path else {"alias": f"qabot-{uuid.uuid4().hex}"}
    pymilvus = import_pymilvus(lite_path is not None)
    if lite_path is not None and lite_in_use(lite_path):
        raise MilvusError(
            f"the Milvus Lite file {lite_path} is open in another process (Milvus Lite "
            "allows one process at a time); stop that process, or use a Milvus server"
        )
    hide = HideLiteLog()
    root = logging.getLogger()
    if not root.isEnabledFor(logging.DEBUG):
        root.addFilter(hide)
    try:
        target = str(lite_path) if lite_path else uri
        return pymilvus.MilvusClient(uri=target, token=token, timeout=timeout, **alias)
    except Exception as exc:
        if lite_path is not None:
            raise MilvusError(f"cannot start Milvus Lite on {lite_path}: {exc}") from exc
        raise translate(exc, uri, "connect", secret=token) from exc
    finally:
        root.removeFilter(hide)


class MilvusConnection:
    """A pymilvus client of one deployment, whose failures become one-line errors."""

    def __init__(
        self, client: Any, uri: str, lite_path: Path | None, say: Say, secret: str = ""
    ) -> None:
        self.client = client
        self.uri = uri
        self.lite_path = lite_path
        self.say = say
        # Only to keep the token out of error messages, should a server ever repeat it.
        self._secret = secret

    @classmethod
    def connect(
        cls: type[_Connection],
        uri: str,
        token: str = "",
        say: Say = logger.info,
        timeout: float | None = None,
        wait: float | None = None,
    ) -> _Connection:
        """Connect to a Milvus server, or start Milvus Lite on a local .db file.

        A server that does not answer is tried again for up to `wait` seconds (READY_WAIT by
        default), saying so once: it may be starting.

        Raises:
            MilvusError: pymilvus is missing, the server is unreachable or refuses the token,
                or the Lite file is in use by another process.
            UsageError: the URI is neither a server address nor a Lite file name.
        """
        lite_path = _lite_path(uri)
        wait = READY_WAIT if wait is None else wait
        deadline = time.monotonic() + (0.0 if lite_path else wait)
        told = False
        while True:
            try:
                return cls._connect_once(uri, lite_path, token, say, timeout or CONNECT_TIMEOUT)
            except MilvusError as exc:
                left = deadline - time.monotonic()
                if exc.remedy is not Remedy.MILVUS_URI or left <= 0:
                    raise
                if not told:
                    say(
                        f"Milvus at {display_uri(uri)} is not answering yet; "
                        f"trying again for up to {wait:.0f} s..."
                    )
                    told = True
                time.sleep(min(1.0, left))

    @classmethod
    def _connect_once(
        cls: type[_Connection],
        uri: str,
        lite_path: Path | None,
        token: str,
        say: Say,
        timeout: float,
    ) -> _Connection:
        client = _client(uri, lite_path, token, timeout)
        if lite_path is not None:
            lite_opened(lite_path)
        connection = cls(client, uri, lite_path, say, token)
        try:
            # A server that takes any token for the connection can still refuse the first call.
            connection.call("list collections", client.list_collections, timeout=CALL_TIMEOUT)
        except BaseException:
            connection.close()
            raise
        return connection

    def close(self) -> None:
        """Close the connection; the last user of a Milvus Lite file stops its server."""
        with contextlib.suppress(Exception):
            self.client.close()
        path, self.lite_path = self.lite_path, None
        if path is not None:
            lite_closed(path)

    def call(self, doing: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call the client; a failure becomes an error saying it could not do `doing`.

        Without a `timeout`, CALL_TIMEOUT: pymilvus would retry an unreachable server for
        minutes.
        """
        timeout = kwargs.get("timeout", CALL_TIMEOUT)
        # pymilvus' retry loop takes only an int as its time limit; with a float it retries
        # an unreachable server 75 times, for minutes.
        kwargs["timeout"] = math.ceil(timeout) if timeout is not None else CALL_TIMEOUT
        try:
            return func(*args, **kwargs)
        except QabotError:
            raise
        except Exception as exc:
            raise translate(exc, self.uri, doing, secret=self._secret) from exc

    def read(self, doing: str, name: str, func: Callable[..., Any], **kwargs: Any) -> Any:
        """Call a search or query of collection `name`, within READ_TIMEOUT.

        A server that restarted may not have loaded the collection again yet: it is loaded,
        and the call made once more.
        """
        try:
            return func(name, timeout=READ_TIMEOUT, **kwargs)
        except QabotError:
            raise
        except Exception as exc:
            if "not loaded" not in str(exc).lower():
                raise translate(exc, self.uri, doing, secret=self._secret) from exc
        logger.warning("Milvus collection %s is not loaded (a restart?); loading it", name)
        self.call("load the collection", self.client.load_collection, name, timeout=CALL_TIMEOUT)
        # The first search of a freshly loaded collection can take the query node a while.
        return self.call(doing, func, name, timeout=CALL_TIMEOUT, **kwargs)

    @property
    def is_lite(self) -> bool:
        """Tell whether this is Milvus Lite (a local file), not a server."""
        return self.lite_path is not None

    @property
    def shown_uri(self) -> str:
        """Return the URI without credentials."""
        return display_uri(self.uri)
