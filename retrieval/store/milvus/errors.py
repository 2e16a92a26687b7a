"""Milvus failures as one-line errors: what went wrong where, and the remedy."""

from __future__ import annotations

from urllib.parse import urlsplit

from retrieval.errors import IndexStateError, QabotError, Remedy, StoreError


class MilvusError(StoreError):
    """Milvus could not be used: not installed, unreachable, token rejected, bad URI."""


def display_uri(uri: str) -> str:
    """Return the URI without any user:password part, fit for messages and files."""
    parts = urlsplit(uri)
    if parts.scheme and "@" in parts.netloc:
        return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
    return uri


def _failure(exc: BaseException) -> tuple[str, str]:
    """Return the gRPC status name and the message of one pymilvus or gRPC exception."""
    code = getattr(exc, "code", None)
    code = code() if callable(code) else code
    details = getattr(exc, "details", None)
    message = getattr(exc, "message", "") or (details() if callable(details) else "") or exc
    return getattr(code, "name", ""), str(message)


def _chain(exc: BaseException) -> list[BaseException]:
    """Return an exception and its causes: pymilvus 3 wraps the server's gRPC status."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    return chain


def _scrub(text: str, secret: str) -> str:
    """Return the text with the token, and each of its user and password parts, masked."""
    for part in sorted({secret, *secret.split(":", 1)} - {""}, key=len, reverse=True):
        if len(part) >= 3:  # a one-letter user name would mask half the message
            text = text.replace(part, "***")
    return text


def _server_says(failures: list[tuple[str, str]], name: str) -> str:
    """Return what the server said with a status (a gRPC detail), without pymilvus' dressing."""
    for status, message in failures:
        if status == name and message.strip():
            return message.strip().splitlines()[0]
    return ""


def translate(exc: BaseException, uri: str, doing: str, secret: str = "") -> QabotError:
    """Turn a pymilvus or gRPC failure into one line saying what was wrong, with its remedy.

    `secret` (the token) is masked in anything the server's message repeats.
    """
    shown = display_uri(uri)
    failures = [(name, _scrub(message, secret)) for name, message in map(_failure, _chain(exc))]
    names = {name for name, _ in failures}
    message = failures[0][1]
    lowered = " ".join(m for _, m in failures).lower()
    if "UNAUTHENTICATED" in names or any(
        words in lowered for words in ("auth check failure", "invalid token", "authenticat")
    ):
        said = _server_says(failures, "UNAUTHENTICATED")
        refused = (
            "asks for credentials and was given none"
            if "missing authorization" in lowered
            else "refused the credentials"
        )
        return MilvusError(
            f"Milvus at {shown} {refused}" + (f" (it says: {said})" if said else ""),
            remedy=Remedy.MILVUS_TOKEN,
        )
    if "PERMISSION_DENIED" in names or "permission den" in lowered or "privilege" in lowered:
        return MilvusError(
            f"the Milvus user may not {doing} at {shown} (it needs access to the database)",
            remedy=Remedy.MILVUS_TOKEN,
        )
    if "DEADLINE_EXCEEDED" in names and "UNAVAILABLE" not in names:
        return MilvusError(f"Milvus at {shown} did not {doing} in the time allowed (busy?)")
    if "UNAVAILABLE" in names or any(
        words in lowered for words in ("fail connecting", "failed to connect", "retry timeout")
    ):
        return MilvusError(
            f"cannot reach Milvus at {shown} (is the server running and the address right?)",
            remedy=Remedy.MILVUS_URI,
        )
    if "collection not found" in lowered or "can't find collection" in lowered:
        return IndexStateError(f"the Milvus collection is gone from {shown}")
    reason = message.strip() or type(exc).__name__
    return MilvusError(f"Milvus at {shown} failed to {doing}: {reason}")
