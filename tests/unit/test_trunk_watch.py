"""The trunk watch and the dialing gate (issue 11, item 14), without a PBX."""

from __future__ import annotations

from engine.ari.event_types import EndpointStateChange
from engine.calls.gate import TRUNK_DOWN, DialingGate
from engine.telephony.trunk_watch import TrunkWatch


def watch(confirm_s: float = 0.0) -> tuple[TrunkWatch, DialingGate, list[bool]]:
    gate = DialingGate()
    changes: list[bool] = []
    trunk = TrunkWatch(
        None,  # type: ignore[arg-type]
        gate,
        "carrier",
        on_change=lambda: changes.append(gate.open),
        confirm_s=confirm_s,
    )
    return trunk, gate, changes


def test_offline_trunk_holds_dialing_at_once_and_online_releases_it_once() -> None:
    """Asterisk refuses every originate to an unreachable trunk: waiting would only turn
    the wait into a burst of failed calls."""
    trunk, gate, changes = watch()
    trunk.update("online", now=0.0)
    assert gate.open and changes == []
    trunk.update("offline", now=1.0)
    trunk.update("offline", now=2.0)
    assert not gate.open and TRUNK_DOWN in gate.reasons
    assert "phone line to the carrier is down" in gate.why()
    trunk.update("unknown", now=3.0)  # not qualified yet says nothing
    assert not gate.open
    trunk.update("online", now=4.0)
    assert gate.open and changes == [False, True]


def test_endpoint_events_for_other_endpoints_are_ignored() -> None:
    trunk, gate, _ = watch()
    trunk.on_EndpointStateChange(EndpointStateChange("PJSIP", "web-1-x", "offline"))
    assert gate.open
    trunk.on_EndpointStateChange(EndpointStateChange("PJSIP", "carrier", "offline"))
    assert not gate.open


def test_a_confirmation_time_can_be_asked_for() -> None:
    trunk, gate, _ = watch(confirm_s=3.0)
    trunk.update("offline", now=1.0)
    assert gate.open
    trunk.update("offline", now=4.0)
    assert not gate.open


def test_gate_stays_held_until_every_reason_is_released() -> None:
    gate = DialingGate()
    assert gate.hold(TRUNK_DOWN, "trunk down.")
    assert gate.hold("ari down", "the PBX is restarting.")
    assert gate.release(TRUNK_DOWN) and not gate.open
    assert gate.why() == "the PBX is restarting."
    assert gate.release("ari down") and gate.open
    assert not gate.release("ari down")
