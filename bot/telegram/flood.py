"""A per-user limit on questions per minute, so one person's flood cannot starve the others."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Admission:
    """Whether a question is answered now; if not, whether to say so, and when to retry."""

    allowed: bool
    warn: bool = False
    retry_in: float = 0.0


class QuestionLimit:
    """Allow each user `per_minute` questions in any minute (0 = no limit).

    Over the limit, only the first refused question gets a reply: answering every message of a
    flood would make the bot flood the chat in turn.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._asked: dict[int, deque[float]] = {}
        self._warned: set[int] = set()

    def admit(self, user_id: int, shown: bool = True) -> Admission:
        """Count a question from user_id and tell whether to answer it.

        Args:
            shown: whether a refusal would be shown to the user. One that cannot be (inline
                mode has no place for it) is no warning: the next refusal that can be shown
                still warns, rather than leaving the user in silence.
        """
        if self.per_minute <= 0:
            return Admission(True)
        now = self._clock()
        times = self._asked.setdefault(user_id, deque())
        while times and times[0] <= now - WINDOW_SECONDS:
            times.popleft()
        if len(times) < self.per_minute:
            times.append(now)
            self._warned.discard(user_id)
            return Admission(True)
        warn = shown and user_id not in self._warned
        if shown:
            self._warned.add(user_id)
        return Admission(False, warn, times[0] + WINDOW_SECONDS - now)
