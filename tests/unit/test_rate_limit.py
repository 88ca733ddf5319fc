from __future__ import annotations

import pytest

from engine.errors import InvalidInput, RateLimited
from engine.security.rate_limit import FailureLimiter, describe_wait


def fail(limiter: FailureLimiter, key: str, times: int, now: float = 0.0) -> None:
    for _ in range(times):
        limiter.record_failure(key, now)


def test_failures_below_the_limit_are_allowed() -> None:
    limiter = FailureLimiter(max_failures=5)
    fail(limiter, "K7MX4RTA", 4)
    limiter.check("K7MX4RTA", 1.0)


def test_reaching_the_limit_locks_the_key() -> None:
    limiter = FailureLimiter(max_failures=5, lockout=900)
    fail(limiter, "K7MX4RTA", 5)
    with pytest.raises(RateLimited) as info:
        limiter.check("K7MX4RTA", 60.0)
    assert info.value.retry_after == 840.0
    assert "14 minutes" in str(info.value)


def test_lock_expires_after_the_lockout() -> None:
    limiter = FailureLimiter(max_failures=5, lockout=900)
    fail(limiter, "K7MX4RTA", 5)
    limiter.check("K7MX4RTA", 900.0)


def test_lock_is_per_key() -> None:
    limiter = FailureLimiter(max_failures=2)
    fail(limiter, "A", 2)
    limiter.check("B", 1.0)


def test_failures_outside_the_window_are_forgotten() -> None:
    limiter = FailureLimiter(max_failures=3, window=60)
    fail(limiter, "A", 2, now=0.0)
    limiter.record_failure("A", 61.0)
    limiter.check("A", 61.0)


def test_reset_clears_failures_and_lock() -> None:
    limiter = FailureLimiter(max_failures=2)
    fail(limiter, "A", 2)
    limiter.reset("A")
    limiter.check("A", 1.0)


def test_after_a_lock_expires_the_count_starts_again() -> None:
    limiter = FailureLimiter(max_failures=2, lockout=10)
    fail(limiter, "A", 2, now=0.0)
    limiter.record_failure("A", 11.0)
    limiter.check("A", 11.0)


def test_stale_keys_are_forgotten() -> None:
    limiter = FailureLimiter(max_failures=5, window=60, lockout=60)
    for n in range(100):
        limiter.record_failure(f"key{n}", 0.0)
    limiter.record_failure("late", 1000.0)
    assert len(limiter) == 1


def test_memory_is_bounded_by_max_keys() -> None:
    limiter = FailureLimiter(max_failures=5, window=60, max_keys=10)
    for n in range(100):
        limiter.record_failure(f"key{n}", 1.0)
    assert len(limiter) <= 10


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(InvalidInput):
        FailureLimiter(max_failures=0)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.2, "1 second"), (45, "45 seconds"), (60, "1 minute"), (61, "2 minutes")],
)
def test_describe_wait(seconds: float, text: str) -> None:
    assert describe_wait(seconds) == text
