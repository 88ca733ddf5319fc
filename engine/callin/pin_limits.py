"""Limits on guessing call-in PINs: per caller ID and over all callers, lockouts that grow.

Pure: time is passed in as seconds of a monotonic clock, so tests need no sleeping. Wrong PINs
are counted in a sliding window by security/rate_limit.py's FailureLimiter; reaching the limit
locks the key, and each further lockout of the same key within STRIKE_MEMORY lasts twice as
long as the one before, up to MAX_GROWTH times the first. A success resets nothing: a guesser
who signed in for a PIN of their own must not buy fresh tries with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import CallinConfig
from engine.errors import RateLimited
from engine.security.rate_limit import FailureLimiter

GROWTH = 2.0
MAX_GROWTH = 16.0
"""The longest lockout is this many times the first."""
STRIKE_MEMORY = 86_400.0
"""A key with no lockout for this long starts again from the first lockout's length."""
ANONYMOUS = "anonymous"
"""The caller ID key of calls that withhold their number: they share one limit."""


@dataclass
class _Strikes:
    count: int = 0
    locked_until: float = 0.0
    last_lockout: float = 0.0


class GrowingLockout:
    """Lock a key after `max_failures` failures within `window` seconds, for `lockout`
    seconds the first time and twice as long each time after (up to MAX_GROWTH times)."""

    def __init__(
        self, max_failures: int, window: float, lockout: float, max_keys: int = 10_000
    ) -> None:
        self._counter = FailureLimiter(max_failures, window, lockout=window, max_keys=max_keys)
        self.lockout = lockout
        self.max_keys = max_keys
        self._strikes: dict[str, _Strikes] = {}

    def wait(self, key: str, now: float) -> float:
        """Seconds `key` stays locked at `now` (0: not locked)."""
        strikes = self._strikes.get(key)
        return max(0.0, strikes.locked_until - now) if strikes else 0.0

    def record_failure(self, key: str, now: float) -> float:
        """Count a failure of `key`; return the length of the lockout it started, or 0."""
        self._counter.record_failure(key, now)
        try:
            self._counter.check(key, now)
            return 0.0
        except RateLimited:
            self._counter.reset(key)  # the count starts again after the lockout
        return self._lock(key, now)

    def _lock(self, key: str, now: float) -> float:
        strikes = self._strikes.pop(key, None) or _Strikes()
        if now - strikes.last_lockout > STRIKE_MEMORY:
            strikes.count = 0
        strikes.count += 1
        seconds = min(self.lockout * GROWTH ** (strikes.count - 1), self.lockout * MAX_GROWTH)
        strikes.locked_until, strikes.last_lockout = now + seconds, now
        self._strikes[key] = strikes  # re-inserted: the most recent lockouts are kept longest
        self._forget_old(now)
        return seconds

    def _forget_old(self, now: float) -> None:
        for key in [k for k, s in self._strikes.items() if now - s.last_lockout > STRIKE_MEMORY]:
            del self._strikes[key]
        while len(self._strikes) > self.max_keys:
            del self._strikes[next(iter(self._strikes))]


@dataclass(frozen=True)
class Refusal:
    """PIN entry is refused: `scope` "caller" (this caller ID) or "overall" (everyone)."""

    scope: str
    wait: float


class PinGuard:
    """The call-in line's two limits: wrong PINs per caller ID, and from all callers."""

    def __init__(self, cfg: CallinConfig) -> None:
        self.by_caller = GrowingLockout(
            cfg.caller_failures, cfg.caller_window_seconds, cfg.caller_lockout_seconds
        )
        self.overall = GrowingLockout(
            cfg.overall_failures, cfg.overall_window_seconds, cfg.overall_lockout_seconds
        )

    def refusal(self, caller: str, now: float) -> Refusal | None:
        """Why PIN entry from `caller` is refused at `now`, or None when it is allowed."""
        overall = self.overall.wait("", now)
        if overall > 0:
            return Refusal("overall", overall)
        own = self.by_caller.wait(caller_key(caller), now)
        return Refusal("caller", own) if own > 0 else None

    def record_failure(self, caller: str, now: float) -> list[Refusal]:
        """Count a wrong PIN from `caller`; return the lockouts it started (to log)."""
        started = [
            Refusal("caller", self.by_caller.record_failure(caller_key(caller), now)),
            Refusal("overall", self.overall.record_failure("", now)),
        ]
        return [r for r in started if r.wait > 0]


def caller_key(caller: str) -> str:
    """The key a caller ID is limited under: its digits (and a leading +), or ANONYMOUS."""
    kept = "".join(c for c in caller.strip() if c.isdigit() or c == "+")
    return kept or ANONYMOUS
