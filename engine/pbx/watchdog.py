"""When an Asterisk that is alive counts as frozen: it has not answered ARI for too long.

A process stopped with SIGSTOP (or wedged) never dies, so watching for death alone leaves it
frozen for ever. The supervisor asks each instance's ARI (`GET /asterisk/info`, short
timeout) every second and records when it last answered; this decides, without I/O, when
the silence has lasted long enough to kill and restart it.
"""

from __future__ import annotations

PROBE_EVERY_S = 1.0
"""Seconds between two ARI health probes of one instance."""
PROBE_TIMEOUT_S = 2.0
"""Seconds one probe may take before it counts as no answer."""


def frozen(last_healthy: float, now: float, threshold: float) -> bool:
    """True when an instance that last answered ARI at ``last_healthy`` (monotonic seconds)
    has been silent for ``threshold`` seconds or more at ``now``."""
    return now - last_healthy >= threshold


class HealthClock:
    """When each instance last answered ARI (monotonic seconds), by instance name."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._last: dict[str, float] = {}

    def answered(self, name: str, now: float) -> None:
        """The instance answered ARI at ``now`` (or was just (re)started)."""
        self._last[name] = now

    def silent_for(self, name: str, now: float) -> float:
        """Seconds since the instance last answered (0 for one never seen: a grace period
        starts at the first look)."""
        return now - self._last.setdefault(name, now)

    def frozen(self, name: str, now: float) -> bool:
        """True when the instance has not answered ARI for the threshold or longer."""
        return frozen(self._last.setdefault(name, now), now, self.threshold)
