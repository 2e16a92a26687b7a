"""Errors meant for the person using qabot: one clear sentence each."""

from __future__ import annotations


class QabotError(Exception):
    """An error whose message is shown to the user as it is (no traceback)."""


class CorpusError(QabotError):
    """The corpus could not be read: no files, unreadable file, bad encoding."""


class ModelError(QabotError):
    """The embedding model could not be loaded."""


class IndexStateError(QabotError):
    """The index is missing, stale, corrupt or of another model."""


class UsageError(QabotError):
    """A bad argument (exit status 2 in the CLI)."""
