"""What the telephony side is right now, read when Prometheus scrapes: whether the ARI events
connection is up, how often it came back, and the calls in flight."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric


class AriLink(Protocol):
    """The ARI client, as the metrics see it."""

    @property
    def connected(self) -> bool: ...

    @property
    def reconnects(self) -> int: ...


class TelephonyCollector:
    """A Prometheus collector over the ARI link and a count of the calls in flight."""

    def __init__(self, ari: AriLink, calls_in_flight: Callable[[], int]) -> None:
        self._ari = ari
        self._calls_in_flight = calls_in_flight

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "phonebank_ari_connected",
            "1 while the ARI events connection to the dialer PBX is open, else 0.",
            value=1 if self._ari.connected else 0,
        )
        yield CounterMetricFamily(
            "phonebank_ari_reconnects",
            "Times the ARI events connection came back after being lost.",
            value=self._ari.reconnects,
        )
        yield GaugeMetricFamily(
            "phonebank_calls_in_flight",
            "Calls to voters from claim to hang-up (automatic and preview).",
            value=self._calls_in_flight(),
        )
