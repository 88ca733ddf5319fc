"""The calls' counters for Prometheus: originates, AMD verdicts, outcomes, abandons and the
verdict → bridge latency. CallMetrics implements engine/calls/ports.py's CallCounts."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from engine.calls.stasis import AmdVerdict
from engine.models import CallOutcome

BRIDGE_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
"""Seconds from a HUMAN verdict to the voter in a ready volunteer's bridge: measured in
milliseconds on a healthy engine (docs/performance.md); 2 s is the legal limit."""
VERDICTS = frozenset(AmdVerdict)


class CallMetrics:
    """Counts what calls report, into the engine's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._originates = Counter(
            "phonebank_originates",
            "Calls originated, by result: ok (the PBX took it) or failed.",
            ["result"],
            registry=registry,
        )
        self._verdicts = Counter(
            "phonebank_amd_verdicts",
            "Answering-machine detection verdicts on answered automatic calls (HANGUP: the"
            " person hung up during detection).",
            ["verdict"],
            registry=registry,
        )
        self._outcomes = Counter(
            "phonebank_calls_ended",
            "Calls to voters that ended, by outcome.",
            ["outcome"],
            registry=registry,
        )
        self._abandons = Counter(
            "phonebank_abandons",
            "Answered people no volunteer was free for within 2 seconds (or lost by a failure).",
            registry=registry,
        )
        self._bridge = Histogram(
            "phonebank_verdict_to_bridge_seconds",
            "Seconds from a person's AMD verdict to the voter in the bridge of a volunteer who"
            " was ready at the verdict.",
            buckets=BRIDGE_BUCKETS,
            registry=registry,
        )
        self._taken_back = Counter(
            "phonebank_machines_heard_by_volunteers",
            "Machines early connect put through to a volunteer before the detector knew them"
            " (the volunteer was taken back out).",
            registry=registry,
        )
        for result in ("ok", "failed"):
            self._originates.labels(result)
        for verdict in sorted(VERDICTS):
            self._verdicts.labels(verdict)

    def originated(self, ok: bool) -> None:
        self._originates.labels("ok" if ok else "failed").inc()

    def verdict(self, verdict: str) -> None:
        self._verdicts.labels(verdict if verdict in VERDICTS else "OTHER").inc()

    def bridged(self, seconds: float) -> None:
        self._bridge.observe(seconds)

    def taken_back(self) -> None:
        self._taken_back.inc()

    def ended(self, outcome: CallOutcome) -> None:
        self._outcomes.labels(str(outcome)).inc()
        if outcome == CallOutcome.ABANDONED:
            self._abandons.inc()
        elif outcome == CallOutcome.HUNG_UP_DURING_AMD:
            # such a call never reaches the Stasis app with a verdict: AMD said HANGUP
            self._verdicts.labels(AmdVerdict.HANGUP).inc()
