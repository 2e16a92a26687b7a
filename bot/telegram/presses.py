"""Button presses remembered for a while, so that a double tap is acted on once."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping

# A lifetime for presses remembered for good (still bounded by `kept`).
FOREVER = math.inf
# Presses remembered at most, per kind; the oldest are forgotten first.
PRESSES_KEPT = 4096


class PressMemory:
    """Remember each press of a button by kind and key, each kind for its own lifetime.

    A press repeated within its kind's lifetime is a double tap. Each kind keeps at most
    `kept` presses, in the order they were made, so the oldest (the first to expire) go first.
    """

    def __init__(
        self,
        lifetimes: Mapping[str, float],
        kept: int = PRESSES_KEPT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lifetimes = dict(lifetimes)
        self.kept = kept
        self._clock = clock
        # kind -> key -> when it was pressed, oldest first.
        self._pressed: dict[str, OrderedDict[Hashable, float]] = {
            kind: OrderedDict() for kind in self.lifetimes
        }

    def __len__(self) -> int:
        return sum(len(pressed) for pressed in self._pressed.values())

    def double_tap(self, kind: str, key: Hashable) -> bool:
        """Remember a press; return True if it repeats one still remembered (act on it once)."""
        now, lifetime, pressed = self._clock(), self.lifetimes[kind], self._pressed[kind]
        last = pressed.get(key)
        if last is not None and now - last < lifetime:
            return True
        pressed[key] = now
        pressed.move_to_end(key)
        # The oldest press is the first to expire: forget from the front, past its lifetime
        # or beyond `kept`.
        while pressed:
            oldest = next(iter(pressed.values()))
            if len(pressed) <= self.kept and now - oldest < lifetime:
                break
            pressed.popitem(last=False)
        return False

    def forget(self, kind: str, key: Hashable) -> None:
        """Forget a press that failed or was refused, so that the button may be pressed again."""
        self._pressed[kind].pop(key, None)
