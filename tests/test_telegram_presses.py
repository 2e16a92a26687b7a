"""Tests for bot/telegram/presses.py: button presses remembered, so a double tap acts once."""

from __future__ import annotations

import pytest

from bot.telegram.presses import FOREVER, PressMemory
from tests.support.clock import Clock


def test_a_press_repeated_within_its_lifetime_is_a_double_tap() -> None:
    clock = Clock()
    presses = PressMemory({"more": FOREVER, "stays": 2.0}, clock=clock)
    assert not presses.double_tap("stays", (1, 2, 3, "c|k|4"))
    clock.now += 1.9
    assert presses.double_tap("stays", (1, 2, 3, "c|k|4"))
    assert not presses.double_tap("stays", (1, 2, 4, "c|k|4"))  # another person
    clock.now += 0.2  # 2.1 s after the first press, which the double tap did not renew
    assert not presses.double_tap("stays", (1, 2, 3, "c|k|4"))
    assert not presses.double_tap("more", (1, 2, 3))
    clock.now += 1e9
    assert presses.double_tap("more", (1, 2, 3))


def test_kinds_are_remembered_apart() -> None:
    presses = PressMemory({"more": FOREVER, "stays": 2.0}, clock=Clock())
    assert not presses.double_tap("more", (1, 2, 3))
    assert not presses.double_tap("stays", (1, 2, 3))
    with pytest.raises(KeyError):
        presses.double_tap("unknown", (1, 2, 3))


def test_a_forgotten_press_may_be_pressed_again() -> None:
    presses = PressMemory({"more": FOREVER}, clock=Clock())
    assert not presses.double_tap("more", (1, 2, 3))
    presses.forget("more", (1, 2, 3))
    assert not presses.double_tap("more", (1, 2, 3))
    assert presses.double_tap("more", (1, 2, 3))
    presses.forget("more", (9, 9, 9))  # never pressed: nothing to forget


def test_memory_is_bounded_oldest_first() -> None:
    clock = Clock()
    presses = PressMemory({"more": FOREVER, "stays": 2.0}, kept=3, clock=clock)
    for offset in range(5):
        assert not presses.double_tap("more", (1, 2, offset))
    assert [presses.double_tap("more", (1, 2, offset)) for offset in (4, 3, 2)] == [True] * 3
    assert not presses.double_tap("more", (1, 2, 0))  # the oldest were forgotten
    assert len(presses) == 3


def test_expired_presses_are_forgotten_as_new_ones_come() -> None:
    clock = Clock()
    presses = PressMemory({"stays": 2.0}, clock=clock)
    for user in range(100):
        presses.double_tap("stays", (1, 2, user, "q|?"))
    clock.now += 2.0
    presses.double_tap("stays", (1, 2, 999, "q|?"))
    assert len(presses) == 1
