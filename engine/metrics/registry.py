"""One Prometheus registry per engine (no global registry): the calls' counters, the
event-loop lag, the telephony collector once a PBX is attached, and the volunteers by state,
counted from the store at each scrape."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from engine.metrics.calls import CallMetrics
from engine.metrics.loop_lag import LoopLag
from engine.models import SessionState
from engine.store.base import Store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""Prometheus' text exposition format."""


class EngineMetrics:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.registry = CollectorRegistry()
        self.calls = CallMetrics(self.registry)
        self.loop_lag = LoopLag(self.registry)
        self._volunteers = Gauge(
            "phonebank_volunteers",
            "Signed-in volunteers (sessions not logged out), by session state.",
            ["state"],
            registry=self.registry,
        )

    async def exposition(self) -> bytes:
        """Every metric in Prometheus' text format (CONTENT_TYPE), the volunteers counted now."""
        counts: dict[SessionState, int] = {
            state: 0 for state in SessionState if state != SessionState.LOGGED_OUT
        }
        for session in await self._store.live_sessions():
            counts[session.state] = counts.get(session.state, 0) + 1
        for state, count in counts.items():
            self._volunteers.labels(str(state)).set(count)
        return generate_latest(self.registry)
