"""A table of named implementations: the seam where a reader, runtime, store or ranker plugs in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from retrieval.errors import UsageError

T = TypeVar("T")


class Registry(Generic[T]):
    """Implementations of one stage's protocol, looked up by name.

    Adding one is a module that decorates it with `register("name")`; choosing one is a dict
    lookup, never an if-chain.
    """

    def __init__(self, what: str) -> None:
        self.what = what  # how errors name an entry: "method", "engine", "backend"
        self._entries: dict[str, T] = {}

    def register(self, *names: str) -> Callable[[T], T]:
        """Register the decorated implementation under each name."""

        def add(entry: T) -> T:
            for name in names:
                self._entries[name] = entry
            return entry

        return add

    def find(self, name: str) -> T | None:
        """Return the implementation of that name, or None."""
        return self._entries.get(name)

    def get(self, name: str) -> T:
        """Return the implementation of that name.

        Raises:
            UsageError: there is none; the message lists the names there are.
        """
        entry = self._entries.get(name)
        if entry is None:
            raise UsageError(f"unknown {self.what} {name!r}; choose from {', '.join(self.names)}")
        return entry

    @property
    def names(self) -> tuple[str, ...]:
        """Return the registered names, in the order they were registered."""
        return tuple(self._entries)
