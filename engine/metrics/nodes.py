"""Each dialer node's health and load, read when Prometheus scrapes (several nodes only;
a single node is reported by TelephonyCollector, as before)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from prometheus_client.core import GaugeMetricFamily, Metric

from engine.sessions.placement import NodeLoad


class NodeLoads(Protocol):
    def loads(self) -> Iterable[NodeLoad]: ...


class NodesCollector:
    def __init__(self, nodes: NodeLoads) -> None:
        self._nodes = nodes

    def collect(self) -> Iterator[Metric]:
        healthy = GaugeMetricFamily(
            "phonebank_node_healthy",
            "1 while the dialer node's ARI events connection and trunk are up, else 0.",
            labels=["node"],
        )
        channels = GaugeMetricFamily(
            "phonebank_node_live_channels",
            "Volunteers' legs and voters' calls on the dialer node now.",
            labels=["node"],
        )
        for load in self._nodes.loads():
            healthy.add_metric([load.name], 1 if load.healthy else 0)
            channels.add_metric([load.name], load.live_channels)
        yield healthy
        yield channels
