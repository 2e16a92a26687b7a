"""Vector store backends by name: one registration each, imported only when chosen."""

from __future__ import annotations

from collections.abc import Callable

from retrieval.progress import Say, say_nothing
from retrieval.registry import Registry
from retrieval.store.base import StoreBackend

# A backend's connect(uri, token, say): the address and token are for those on a server.
Connect = Callable[[str, str, Say], StoreBackend]

# The names are those of config.BACKENDS (tests/test_store_registry.py checks).
STORES: Registry[Connect] = Registry("backend")
# What a build or a load uses when no backend is given.
DEFAULT_STORE = "faiss"


@STORES.register("faiss")
def _faiss(uri: str, token: str, say: Say) -> StoreBackend:
    from retrieval.store.faiss_store import FaissBackend

    return FaissBackend.connect(uri, token, say)


@STORES.register("milvus")
def _milvus(uri: str, token: str, say: Say) -> StoreBackend:
    # Imported when chosen: pymilvus is an optional extra that FAISS users never install.
    from retrieval.store.milvus import MilvusBackend

    return MilvusBackend.connect(uri, token, say)


def open_backend(
    name: str = DEFAULT_STORE, uri: str = "", token: str = "", say: Say = say_nothing
) -> StoreBackend:
    """Connect to the named backend.

    Raises:
        UsageError: no backend has that name (the message lists those there are).
        QabotError: the backend is not installed (with the install remedy) or cannot connect.
    """
    return STORES.get(name)(uri, token, say)
