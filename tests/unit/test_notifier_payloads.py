"""The WebSocket payloads are declared once (engine/notifier.py TypedDicts): what the engine
publishes has exactly the declared keys, plus the notifier's ``sent_at``."""

from __future__ import annotations

import typing

from engine.calls.gate import DialingGate
from engine.models import AudioMode
from engine.notifier import DialingView, Notifier, Payload, SessionStateEvent
from tests.unit.store_helpers import T0
from tests.unit.web_support import running_engine


def test_every_declared_payload_has_its_own_type() -> None:
    kinds = [typing.get_type_hints(p)["type"] for p in typing.get_args(Payload)]
    names = [typing.get_args(kind)[0] for kind in kinds]
    assert len(set(names)) == len(names)
    assert {"session", "preview_ended", "call", "dialing", "telephony", "import"} <= set(names)


def test_the_gate_view_is_the_declared_dialing_view() -> None:
    gate = DialingGate()
    assert set(gate.view()) == DialingView.__required_keys__
    gate.hold("trunk down", "The phone line to the carrier is down.")
    assert gate.view() == {"paused": True, "message": "The phone line to the carrier is down."}


def test_published_events_get_sent_at() -> None:
    notifier = Notifier()
    with notifier.session_events(7) as queue:
        notifier.publish(1, 7, {"type": "call", "attempt_id": 3, "outcome": "contact"})
        event = queue.get_nowait()
    assert set(event) == {"type", "attempt_id", "outcome", "sent_at"}


async def test_a_session_event_has_the_declared_keys() -> None:
    async with running_engine() as engine:
        campaign = await engine.store.create_campaign("Fall")
        volunteer = await engine.store.add_volunteer("Ann", "ann@example.org", "+12025550100")
        session = await engine.store.create_session(
            volunteer.id, campaign.id, AudioMode.PHONE, "123456", "token-hash", T0
        )
        with engine.notifier.session_events(session.id) as queue:
            engine.sessions.publish_state(session)
            event = queue.get_nowait()
    assert set(event) == SessionStateEvent.__required_keys__ | {"sent_at"}
    assert event["type"] == "session"
