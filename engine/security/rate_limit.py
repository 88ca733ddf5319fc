"""Lock a key (a Login ID, a caller's number...) after too many failures in a short time.

Not global: each owner (sign-in, call-in PIN entry) makes its own limiter. Time is passed in
as seconds from any monotonic clock, so tests need no sleeping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from engine.errors import InvalidInput, RateLimited


@dataclass
class _Record:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


def describe_wait(seconds: float) -> str:
    """A wait as a person would say it: "45 seconds", "1 minute", "15 minutes"."""
    if seconds < 60:
        n, unit = max(1, math.ceil(seconds)), "second"
    else:
        n, unit = math.ceil(seconds / 60), "minute"
    return f"{n} {unit}{'' if n == 1 else 's'}"


class FailureLimiter:
    """Allow `max_failures` failures per key within `window` seconds, then lock the key for
    `lockout` seconds.

    Memory is bounded: keys with no recent failure and no lock are forgotten, and beyond
    `max_keys` the oldest keys are dropped (losing their count, and any lock) first.
    """

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 300.0,
        lockout: float = 900.0,
        max_keys: int = 10_000,
    ) -> None:
        if max_failures < 1 or window <= 0 or lockout <= 0 or max_keys < 1:
            raise InvalidInput(
                "a failure limiter needs max_failures >= 1 and positive window, lockout and "
                "max_keys"
            )
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self.max_keys = max_keys
        self._records: dict[str, _Record] = {}
        self._next_sweep = 0.0

    def check(self, key: str, now: float) -> None:
        """Raises RateLimited, saying how long to wait, if `key` is locked at `now`."""
        record = self._records.get(key)
        if record is not None and record.locked_until > now:
            wait = record.locked_until - now
            raise RateLimited(
                f"Too many failed attempts. Try again in {describe_wait(wait)}.", wait
            )

    def record_failure(self, key: str, now: float) -> None:
        """Count a failure for `key`; the one that reaches max_failures locks it."""
        self._sweep(now)
        record = self._records.pop(key, None) or _Record()
        self._records[key] = record  # re-inserted: most recently failed keys are kept longest
        record.failures = [t for t in record.failures if t > now - self.window]
        record.failures.append(now)
        if len(record.failures) >= self.max_failures:
            record.locked_until = now + self.lockout
            record.failures.clear()

    def reset(self, key: str) -> None:
        """Forget `key`'s failures and lock, e.g. after a success."""
        self._records.pop(key, None)

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._records)

    def _sweep(self, now: float) -> None:
        if now >= self._next_sweep or len(self._records) >= self.max_keys:
            self._next_sweep = now + self.window
            stale = [key for key, r in self._records.items() if not self._live(r, now)]
            for key in stale:
                del self._records[key]
        while len(self._records) >= self.max_keys:
            del self._records[next(iter(self._records))]

    def _live(self, record: _Record, now: float) -> bool:
        recent = bool(record.failures) and record.failures[-1] > now - self.window
        return recent or record.locked_until > now


class AttemptLimiter:
    """Allow `max_attempts` attempts per key within any `window` seconds (a sliding window):
    for actions that cost us whether they succeed or not, such as sign-ups.

    Memory is bounded like FailureLimiter's: idle keys are forgotten, the oldest dropped first
    beyond `max_keys`.
    """

    def __init__(self, max_attempts: int, window: float, max_keys: int = 10_000) -> None:
        if max_attempts < 1 or window <= 0 or max_keys < 1:
            raise InvalidInput("an attempt limiter needs positive max_attempts, window, max_keys")
        self.max_attempts = max_attempts
        self.window = window
        self.max_keys = max_keys
        self._attempts: dict[str, list[float]] = {}

    def check(self, key: str, now: float, message: str = "Too many attempts.") -> None:
        """Raise RateLimited (``message`` plus how long to wait) if `key` already made
        max_attempts within the window; counts nothing."""
        times = [t for t in self._attempts.get(key, ()) if t > now - self.window]
        if len(times) >= self.max_attempts:
            wait = times[0] + self.window - now
            raise RateLimited(f"{message} Try again in {describe_wait(wait)}.", wait)

    def take(self, key: str, now: float, message: str = "Too many attempts.") -> None:
        """``check``, then count an attempt for `key` (a refused attempt is not counted)."""
        self.check(key, now, message)
        times = [t for t in self._attempts.pop(key, []) if t > now - self.window]
        times.append(now)
        self._attempts[key] = times  # re-inserted: the most recent keys are kept longest
        while len(self._attempts) > self.max_keys:
            del self._attempts[next(iter(self._attempts))]

    def count(self, key: str, now: float) -> int:
        """Attempts `key` made within the window before `now`."""
        return sum(1 for t in self._attempts.get(key, ()) if t > now - self.window)

    def __len__(self) -> int:
        return len(self._attempts)
