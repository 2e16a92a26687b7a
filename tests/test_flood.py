"""The per-user question limit: a sliding minute, one polite warning per flood."""

from __future__ import annotations

from bot.telegram.flood import Admission, QuestionLimit
from tests.support.clock import Clock


def test_over_the_limit_only_the_first_refusal_warns() -> None:
    clock = Clock()
    limit = QuestionLimit(3, clock)
    assert [limit.admit(1).allowed for _ in range(3)] == [True, True, True]
    clock.now += 10
    assert limit.admit(1) == Admission(False, True, 50.0)
    assert limit.admit(1) == Admission(False, False, 50.0)
    assert limit.admit(2).allowed  # others are not held up
    clock.now += 50  # the first three leave the window: a new flood warns again
    assert [limit.admit(1).allowed for _ in range(3)] == [True, True, True]
    assert [limit.admit(1).warn for _ in range(3)] == [True, False, False]


def test_zero_means_no_limit() -> None:
    limit = QuestionLimit(0)
    assert all(limit.admit(1).allowed for _ in range(1000))


def test_a_refusal_that_cannot_be_shown_is_no_warning() -> None:
    clock = Clock()
    limit = QuestionLimit(2, clock)
    assert [limit.admit(1, shown=False).allowed for _ in range(2)] == [True, True]
    # Inline mode has nowhere to show "please wait": the refusal there is silent...
    assert limit.admit(1, shown=False) == Admission(False, False, 60.0)
    # ...so the next refusal that can be shown still says it, once.
    assert limit.admit(1) == Admission(False, True, 60.0)
    assert limit.admit(1) == Admission(False, False, 60.0)
