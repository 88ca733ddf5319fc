"""Reconciling with the PBX after the events websocket comes back, against a fake ARI: calls
and volunteers' phone legs that survived carry on, those that vanished are ended, and a
volunteer's phone joins the session's bridge if it survived (a new one otherwise)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

from engine.app import Engine
from engine.audio.sounds import SoundLibrary
from engine.config import load_config
from engine.models import Attempt, CallState, Campaign, Session, SessionState
from engine.store.sqlite.store import SqliteStore
from engine.telephony.runtime import Telephony
from tests.helpers import wait_until
from tests.unit.fake_ari import FakeAri

CSV = "first_name,phone,zip\nAnn,+12025550101,20001\n"


@dataclass
class Shift:
    engine: Engine
    telephony: Telephony
    fake: FakeAri
    campaign: Campaign
    session: Session

    def alive(self, *channel_ids: str) -> None:
        """What Asterisk says still exists after the outage."""
        self.fake.respond("GET", "/channels", body=[{"id": c, "state": "Up"} for c in channel_ids])

    async def first_call(self) -> Attempt:
        """Start calling and wait for the dialer to ring the one voter."""
        await self.engine.volunteers.start_calling(self.session.id)
        await wait_until(lambda: self.fake.requests_to("POST", "/channels"), 5, "the first call")
        [attempt] = await self.engine.store.list_attempts(self.campaign.id)
        return attempt


@pytest.fixture
async def shift(tmp_path: Path) -> AsyncIterator[Shift]:
    store = SqliteStore.open(":memory:")
    sounds = SoundLibrary(tmp_path, PurePosixPath("/sounds"))
    cfg = load_config(environ={})
    async with FakeAri() as fake, Engine.running(cfg, fake.settings(), sounds, store) as engine:
        assert engine.telephony is not None
        campaign = await engine.operators.create_campaign(
            "test",
            "Reconcile",
            dial_mode="power",
            calling_hours_start="00:00",
            calling_hours_end="24:00",
        )
        await engine.operators.import_list("test", campaign.id, io.BytesIO(CSV.encode()))
        signup = await engine.volunteers.sign_up("Ada", "ada@example.org", "+12025550100")
        signin = await engine.volunteers.sign_in(
            signup.login_id, signup.password, campaign.id, "phone", "test"
        )
        await engine.telephony.join_session(signin.session, "phone-1")
        session = await engine.store.get_session(signin.session.id)
        yield Shift(engine, engine.telephony, fake, campaign, session)
    await store.close()


async def test_a_ringing_call_that_survived_carries_on(shift: Shift) -> None:
    attempt = await shift.first_call()
    assert attempt.channel_id is not None
    shift.alive("phone-1", attempt.channel_id)
    await shift.telephony.recovery.reconcile()
    still = await shift.engine.store.get_attempt(attempt.id)
    assert still.state == CallState.DIALING and still.ended_at is None
    assert attempt.channel_id in shift.telephony.calls.by_channel


async def test_a_ringing_call_that_vanished_is_ended_and_not_charged(shift: Shift) -> None:
    attempt = await shift.first_call()
    assert attempt.channel_id is not None
    shift.alive("phone-1")
    await shift.telephony.recovery.reconcile()
    ended = await shift.engine.store.get_attempt(attempt.id)
    assert ended.state == CallState.ENDED and ended.outcome is None
    assert attempt.channel_id not in shift.telephony.calls.by_channel


async def test_a_phone_leg_that_survived_keeps_its_session(shift: Shift) -> None:
    shift.alive("phone-1")
    await shift.telephony.recovery.reconcile()
    session = await shift.engine.store.get_session(shift.session.id)
    assert (session.state, session.channel_id) == (SessionState.CONNECTED, "phone-1")
    assert list(shift.telephony.legs.channels()) == ["phone-1"]


async def test_a_phone_leg_that_vanished_leaves_the_session_waiting_for_the_phone(
    shift: Shift,
) -> None:
    shift.alive()
    await shift.telephony.recovery.reconcile()
    session = await shift.engine.store.get_session(shift.session.id)
    assert (session.state, session.channel_id) == (SessionState.WAITING_FOR_PHONE, None)
    assert list(shift.telephony.legs.channels()) == []


async def test_a_phone_calling_back_joins_the_bridge_that_survived(shift: Shift) -> None:
    bridge_id = shift.session.bridge_id
    assert bridge_id is not None
    shift.fake.respond("GET", "/bridges", body=[{"id": bridge_id, "channels": []}])
    made = len(shift.fake.requests_to("POST", "/bridges"))
    await shift.telephony.join_session(shift.session, "phone-2")
    assert len(shift.fake.requests_to("POST", "/bridges")) == made, "a new bridge was made"
    [*_, added] = shift.fake.requests_to("POST", f"/bridges/{bridge_id}/addChannel")
    assert added.query["channel"] == "phone-2"
    session = await shift.engine.store.get_session(shift.session.id)
    assert (session.channel_id, session.bridge_id) == ("phone-2", bridge_id)
    assert shift.fake.requests_to("DELETE", "/channels/phone-1"), "the old leg was kept"


async def test_a_phone_calling_back_after_its_bridge_vanished_gets_a_new_one(
    shift: Shift,
) -> None:
    old = shift.session.bridge_id
    shift.fake.respond("GET", "/bridges", body=[])
    await shift.telephony.join_session(shift.session, "phone-2")
    session = await shift.engine.store.get_session(shift.session.id)
    assert session.bridge_id is not None and session.bridge_id != old
    assert shift.fake.requests_to("POST", f"/bridges/{session.bridge_id}/addChannel")
