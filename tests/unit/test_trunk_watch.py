"""The trunk watch and the dialing gate (issue 11, item 14), without a PBX."""

from __future__ import annotations

from engine.telephony.dialing_gate import TRUNK_DOWN, DialingGate
from engine.telephony.trunk_watch import TrunkWatch


def watch() -> tuple[TrunkWatch, DialingGate, list[bool]]:
    gate = DialingGate()
    changes: list[bool] = []
    trunk = TrunkWatch(None, gate, "carrier", on_change=lambda: changes.append(gate.open))  # type: ignore[arg-type]
    return trunk, gate, changes


def test_trunk_offline_for_a_while_holds_dialing_and_online_releases_it_once():
    trunk, gate, changes = watch()
    trunk.update("online", now=0.0)
    assert gate.open and changes == []
    trunk.update("offline", now=1.0)
    assert gate.open  # one lost OPTIONS is not an outage
    trunk.update("offline", now=4.0)
    assert not gate.open and TRUNK_DOWN in gate.holds
    assert "phone line to the carrier is down" in gate.message()
    trunk.update("unknown", now=5.0)  # not qualified yet says nothing
    assert not gate.open
    trunk.update("online", now=6.0)
    assert gate.open and changes == [False, True]


def test_endpoint_events_for_other_endpoints_are_ignored():
    trunk, gate, _ = watch()
    trunk.on_EndpointStateChange(
        {"endpoint": {"technology": "PJSIP", "resource": "web-1-x", "state": "offline"}}
    )
    assert gate.open
    offline = {"endpoint": {"technology": "PJSIP", "resource": "carrier", "state": "offline"}}
    trunk.on_EndpointStateChange(offline)
    trunk.update("offline", now=trunk._offline_since + trunk.confirm_s)  # type: ignore[operator]
    assert not gate.open


def test_gate_stays_held_until_every_reason_is_released():
    gate = DialingGate()
    assert gate.hold(TRUNK_DOWN, "trunk down.")
    assert gate.hold("ari down", "the PBX is restarting.")
    assert gate.release(TRUNK_DOWN) and not gate.open
    assert gate.message() == "the PBX is restarting."
    assert gate.release("ari down") and gate.open
    assert not gate.release("ari down")
