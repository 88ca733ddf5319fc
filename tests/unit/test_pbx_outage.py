"""The engine when the dialer PBX goes away, against a fake ARI: dialing is held while the
events websocket is down and every page is told, an originate that gets no answer is not
charged, calls that vanish meanwhile are charged honestly, and dialing resumes at once."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import PurePosixPath

import aiohttp
import pytest

from engine.app import Engine
from engine.ari import client
from engine.config import load_config
from engine.models import CallOutcome, CallState, Campaign, SessionState, VoterStatus
from engine.notifier import Event
from engine.store.sqlite.store import SqliteStore
from engine.telephony.sounds import SoundLibrary
from tests.helpers import wait_until
from tests.unit.fake_ari import FakeAri

CSV = "first_name,phone,zip\nAnn,+12025550101,20001\nBob,+12025550102,20001\n"


@dataclass
class Shift:
    engine: Engine
    fake: FakeAri
    campaign: Campaign
    session_id: int
    events: asyncio.Queue[Event]

    async def next_event(self, kind: str) -> Event:
        while True:
            event = await asyncio.wait_for(self.events.get(), 5)
            if event["type"] == kind:
                return event

    def originates(self) -> int:
        return len(self.fake.requests_to("POST", "/channels"))

    async def attempts(self):
        return await self.engine.store.list_attempts(self.campaign.id)


@pytest.fixture
async def shift(tmp_path, monkeypatch) -> AsyncIterator[Shift]:
    # A frozen Asterisk never answers: requests give up after 0.5 s here (8 s for real).
    monkeypatch.setattr(client, "_HTTP_TIMEOUT", aiohttp.ClientTimeout(total=0.5))
    store = SqliteStore.open(":memory:")
    sounds = SoundLibrary(tmp_path, PurePosixPath("/sounds"))
    cfg = load_config(environ={})
    async with FakeAri() as fake, Engine.running(cfg, fake.settings(), sounds, store) as engine:
        campaign = await engine.operators.create_campaign(
            "test",
            "Outage",
            dial_mode="power",
            calling_hours_start="00:00",
            calling_hours_end="24:00",
            max_attempts=1,
        )
        await engine.operators.import_list("test", campaign.id, io.BytesIO(CSV.encode()))
        signup = await engine.volunteers.sign_up("Ada", "ada@example.org", "+12025550100")
        signin = await engine.volunteers.sign_in(
            signup.login_id, signup.password, campaign.id, "phone", "test"
        )
        session = await engine.sessions.phone_connected(signin.session, "phone-1", "br-1")
        with engine.notifier.session_events(session.id) as queue:
            yield Shift(engine, fake, campaign, session.id, queue)
    await store.close()


async def test_nothing_is_dialed_while_the_pbx_is_away_and_dialing_resumes_when_back(shift):
    engine, fake = shift.engine, shift.fake
    assert engine.telephony is not None and engine.dialer is not None
    fake.refuse_websockets = True
    await fake.drop_websockets()
    told = await shift.next_event("telephony")
    assert told["available"] is False and "resume automatically" in told["message"]
    assert not engine.telephony.gate.open
    await engine.volunteers.start_calling(shift.session_id)
    await engine.dialer.tick()
    assert shift.originates() == 0, "a call was originated into a dead PBX"
    assert not await shift.attempts(), "a voter was claimed while dialing was held"
    fake.refuse_websockets = False
    back = await shift.next_event("telephony")
    assert back["available"] is True and "call back in" in back["message"]
    await wait_until(shift.originates, 5, "dialing to resume")


async def test_an_originate_the_pbx_never_answers_is_not_charged_to_the_voter(shift):
    engine, fake = shift.engine, shift.fake
    fake.respond("POST", "/channels", delay=2.0)  # Asterisk frozen: no answer in time
    await engine.volunteers.start_calling(shift.session_id)

    async def given_back():
        return [a for a in await shift.attempts() if a.state == CallState.ENDED]

    [attempt, *_] = await wait_until(given_back, 10, "the unanswered originate to end")
    assert attempt.outcome is None, "our failure was charged to the voter"
    voter = await engine.store.get_voter(attempt.voter_id)
    assert voter.next_attempt_at is None, "the voter was pushed back"
    open_now = [a for a in await shift.attempts() if a.voter_id == voter.id and not a.ended_at]
    assert voter.attempts <= len(open_now), "the unplaced call was counted as an attempt"


async def test_calls_that_vanish_while_the_pbx_is_away_are_charged_honestly(shift):
    engine, fake = shift.engine, shift.fake
    assert engine.telephony is not None
    await engine.volunteers.start_calling(shift.session_id)
    await wait_until(shift.originates, 5, "the first call")
    ringing = (await shift.attempts())[0]
    # While the websocket is away the ringing call vanishes (Asterisk restarted): the dialplan
    # left no verdict, so it is given back untouched.
    await fake.drop_websockets()
    await shift.next_event("telephony")
    back = await shift.next_event("telephony")
    assert back["available"] is True
    attempt = await engine.store.get_attempt(ringing.id)
    assert attempt.state == CallState.ENDED and attempt.outcome is None
    voter = await engine.store.get_voter(attempt.voter_id)
    assert voter.status in (VoterStatus.PENDING, VoterStatus.IN_FLIGHT)
    assert voter.next_attempt_at is None


async def test_an_answer_that_found_no_engine_in_stasis_counts_as_an_abandon(shift):
    engine, fake = shift.engine, shift.fake
    await engine.volunteers.start_calling(shift.session_id)
    await wait_until(shift.originates, 5, "the first call")
    first = (await shift.attempts())[0]
    fake.respond("GET", "/asterisk/variable", body={"value": "HUMAN,1795691629.5"})
    await fake.drop_websockets()
    await shift.next_event("telephony")
    await shift.next_event("telephony")
    attempt = await engine.store.get_attempt(first.id)
    assert attempt.outcome == CallOutcome.ABANDONED
    assert attempt.amd_verdict == "HUMAN" and attempt.answered_at is not None
    session = await engine.store.get_session(shift.session_id)
    assert session.state != SessionState.TALKING


async def test_every_outage_holds_dialing_even_when_it_looks_like_the_last(shift):
    """Two outages in a row end the same way ("closed, code 1006"): the second one must not
    be taken for a repeat of the first and dropped."""
    engine, fake = shift.engine, shift.fake
    for _ in range(2):
        fake.refuse_websockets = True
        await fake.drop_websockets()
        assert (await shift.next_event("telephony"))["available"] is False
        fake.refuse_websockets = False
        assert (await shift.next_event("telephony"))["available"] is True
    assert engine.telephony is not None and engine.telephony.gate.open


async def test_a_resume_overtaken_by_a_new_outage_keeps_dialing_held(shift, monkeypatch):
    """The websocket dropped again while reconciling after the last outage: that resume must
    not open the gate (the dialer would dial with no event stream)."""
    tel = shift.engine.telephony
    assert tel is not None
    recovery = tel.recovery
    recovery.on_disconnected("first outage")
    reconcile = recovery.reconcile

    async def dropped_again_meanwhile() -> None:
        await reconcile()
        recovery.on_disconnected("second outage")

    monkeypatch.setattr(recovery, "reconcile", dropped_again_meanwhile)
    await recovery.resume()
    assert not tel.gate.open, "dialing resumed although the PBX went away again"
    monkeypatch.setattr(recovery, "reconcile", reconcile)
    await recovery.resume()
    assert tel.gate.open
