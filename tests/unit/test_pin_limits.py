"""The pure parts of call-in PIN entry: digits and deadlines (PinEntry), and the limits on
guessing (GrowingLockout per key, PinGuard per caller ID and overall)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from engine.callin.callins import MAX_PIN_FAILURES, PinEntry
from engine.callin.pin_limits import (
    ANONYMOUS,
    MAX_GROWTH,
    STRIKE_MEMORY,
    GrowingLockout,
    PinGuard,
    caller_key,
)
from engine.config import CallinConfig, load_config
from engine.errors import ConfigError
from engine.sessions.service import PIN_LENGTH


def fail(lockout: GrowingLockout, key: str, times: int, now: float) -> list[float]:
    return [lockout.record_failure(key, now) for _ in range(times)]


# --- PinEntry --------------------------------------------------------------------------------
def test_a_pin_is_complete_at_full_length_or_at_hash() -> None:
    entry = PinEntry(8)
    assert [entry.add(d) for d in "1234567"] == [None] * 7
    assert entry.add("8") == "12345678"
    assert [entry.add(d) for d in "42"] == [None, None]
    assert entry.add("#") == "42"


def test_star_and_letters_are_ignored() -> None:
    entry = PinEntry(3)
    assert [entry.add(d) for d in "1*A2"] == [None] * 4
    assert entry.add("3") == "123"


def test_the_third_wrong_pin_ends_the_call() -> None:
    entry = PinEntry(8)
    assert [entry.fail() for _ in range(MAX_PIN_FAILURES)] == [False, False, True]


def test_idle_time_counts_from_the_later_of_the_prompt_and_the_last_digit() -> None:
    entry = PinEntry(8, started_at=100.0, idle_seconds=20.0, entry_seconds=60.0)
    entry.prompted(101.0)
    assert entry.wait_for_digit(101.0, last_digit_at=0.0) == 20.0
    assert entry.wait_for_digit(115.0, last_digit_at=110.0) == 15.0
    entry.prompted(130.0)  # re-prompted after a wrong PIN
    assert entry.wait_for_digit(131.0, last_digit_at=125.0) == 19.0


def test_pin_entry_ends_at_the_overall_deadline_however_busy_the_caller_is() -> None:
    entry = PinEntry(8, started_at=100.0, idle_seconds=20.0, entry_seconds=60.0)
    entry.prompted(150.0)
    assert entry.wait_for_digit(155.0, last_digit_at=155.0) == 5.0
    assert entry.wait_for_digit(160.0, last_digit_at=159.9) <= 0


def test_default_timeouts_end_a_silent_call_in_well_before_90_seconds() -> None:
    cfg = load_config(environ={}).callin
    assert 15 <= cfg.pin_idle_seconds <= 20
    assert cfg.pin_entry_seconds <= 60
    entry = PinEntry(PIN_LENGTH, 0.0, cfg.pin_idle_seconds, cfg.pin_entry_seconds)
    entry.prompted(0.0)
    assert entry.wait_for_digit(cfg.pin_idle_seconds, last_digit_at=0.0) <= 0


def test_pins_are_eight_digits() -> None:
    assert PIN_LENGTH == 8


# --- GrowingLockout ---------------------------------------------------------------------------
def test_failures_below_the_limit_do_not_lock() -> None:
    lockout = GrowingLockout(max_failures=3, window=60, lockout=10)
    assert fail(lockout, "a", 2, now=0.0) == [0.0, 0.0]
    assert lockout.wait("a", 1.0) == 0.0


def test_reaching_the_limit_locks_for_the_first_lockout() -> None:
    lockout = GrowingLockout(max_failures=3, window=60, lockout=10)
    assert fail(lockout, "a", 3, now=0.0)[-1] == 10.0
    assert lockout.wait("a", 4.0) == 6.0
    assert lockout.wait("a", 10.0) == 0.0
    assert lockout.wait("b", 4.0) == 0.0


def test_failures_outside_the_window_do_not_count() -> None:
    lockout = GrowingLockout(max_failures=3, window=60, lockout=10)
    fail(lockout, "a", 2, now=0.0)
    assert lockout.record_failure("a", 61.0) == 0.0


def test_each_further_lockout_doubles_up_to_sixteen_times_the_first() -> None:
    lockout = GrowingLockout(max_failures=2, window=60, lockout=10)
    lengths = []
    now = 0.0
    for _ in range(7):
        length = fail(lockout, "a", 2, now)[-1]
        lengths.append(length)
        now += length
    assert lengths == [10, 20, 40, 80, 160, 160, 160]
    assert max(lengths) == 10 * MAX_GROWTH


def test_a_day_without_lockout_starts_again_from_the_first_length() -> None:
    lockout = GrowingLockout(max_failures=2, window=60, lockout=10)
    fail(lockout, "a", 2, now=0.0)
    assert fail(lockout, "a", 2, now=20.0)[-1] == 20
    assert fail(lockout, "a", 2, now=20.0 + STRIKE_MEMORY + 1)[-1] == 10


def test_memory_of_lockouts_is_bounded() -> None:
    lockout = GrowingLockout(max_failures=1, window=60, lockout=10, max_keys=100)
    for n in range(1000):
        lockout.record_failure(f"caller-{n}", float(n))
    assert len(lockout._strikes) <= 100
    assert lockout.wait("caller-999", 999.0) > 0


# --- PinGuard ---------------------------------------------------------------------------------
def guard(**limits: Any) -> PinGuard:
    return PinGuard(dataclasses.replace(CallinConfig(), **limits))


def test_a_caller_id_reaching_its_limit_is_refused_and_others_are_not() -> None:
    pins = guard(caller_failures=3, caller_lockout_seconds=300)
    started = [pins.record_failure("+12025550001", 0.0) for _ in range(3)]
    assert started[:2] == [[], []]
    assert [(r.scope, r.wait) for r in started[2]] == [("caller", 300)]
    refusal = pins.refusal("+1 (202) 555-0001", 10.0)
    assert refusal is not None and (refusal.scope, refusal.wait) == ("caller", 290)
    assert pins.refusal("+12025550002", 10.0) is None


def test_wrong_pins_from_changing_caller_ids_reach_the_overall_ceiling() -> None:
    pins = guard(caller_failures=3, overall_failures=5, overall_lockout_seconds=120)
    for n in range(4):
        assert pins.record_failure(f"+1202555000{n}", float(n)) == []
    [started] = pins.record_failure("+12025550009", 4.0)
    assert (started.scope, started.wait) == ("overall", 120)
    refusal = pins.refusal("+12025550123", 5.0)  # a caller never seen before
    assert refusal is not None and refusal.scope == "overall"
    assert pins.refusal("+12025550123", 124.0) is None


def test_callers_withholding_their_number_share_one_limit() -> None:
    pins = guard(caller_failures=2)
    pins.record_failure("", 0.0)
    pins.record_failure("anonymous", 0.0)
    assert pins.refusal("", 1.0) is not None
    assert caller_key("") == caller_key("  ") == ANONYMOUS


def test_the_default_limits_are_the_safe_ones() -> None:
    cfg = CallinConfig()
    assert (cfg.caller_failures, cfg.caller_window_seconds, cfg.caller_lockout_seconds) == (
        6,
        900,
        300,
    )
    assert (cfg.overall_failures, cfg.overall_window_seconds, cfg.overall_lockout_seconds) == (
        30,
        600,
        120,
    )


@pytest.mark.parametrize("key", ["caller_failures", "overall_lockout_seconds", "pin_idle_seconds"])
def test_a_limit_of_zero_stops_start_up(key: str) -> None:
    env = {"PHONEBANK_CALLIN_" + key.upper(): "0"}
    with pytest.raises(ConfigError, match=f"callin.{key} must be more than 0"):
        load_config(environ=env)
