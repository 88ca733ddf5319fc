"""Event-loop lag: how late a short periodic sleep wakes up. Everything the engine does runs
on one asyncio loop; a late wake-up is how long every call, event and page waited."""

from __future__ import annotations

import asyncio
import time

from prometheus_client import CollectorRegistry, Gauge, Histogram

INTERVAL_S = 0.5
LAG_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)


class LoopLag:
    """Measures the event loop's lag every INTERVAL_S while run() runs."""

    def __init__(self, registry: CollectorRegistry, interval: float = INTERVAL_S) -> None:
        self._interval = interval
        self._last = Gauge(
            "phonebank_event_loop_lag_last_seconds",
            "How late the event loop woke the last periodic probe, in seconds.",
            registry=registry,
        )
        self._lags = Histogram(
            "phonebank_event_loop_lag_seconds",
            "How late the event loop woke each periodic probe, in seconds.",
            buckets=LAG_BUCKETS,
            registry=registry,
        )

    async def run(self) -> None:
        """Probe until cancelled."""
        while True:
            started = time.monotonic()
            await asyncio.sleep(self._interval)
            lag = max(0.0, time.monotonic() - started - self._interval)
            self._last.set(lag)
            self._lags.observe(lag)
