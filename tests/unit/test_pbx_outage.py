"""The engine when the dialer PBX goes away, against a fake ARI: dialing is held while the
events websocket is down and every page is told, an originate that gets no answer is not
charged, calls that vanish meanwhile are charged honestly, and dialing resumes at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from engine.app import Engine
from engine.ari import client
from engine.models import Attempt, CallOutcome, CallState, Campaign, SessionState, VoterStatus
from engine.notifier import Event
from tests.helpers import wait_until
from tests.unit.fake_ari import FakeAri
from tests.unit.shift_support import phone_volunteer


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

    async def attempts(self) -> list[Attempt]:
        return await self.engine.store.list_attempts(self.campaign.id)


@pytest.fixture(autouse=True)
def short_http_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A frozen Asterisk never answers: requests give up after 0.5 s here (8 s for real)."""
    monkeypatch.setattr(client, "_HTTP_TIMEOUT", aiohttp.ClientTimeout(total=0.5))


@pytest.fixture
async def shift(fake_pbx: tuple[Engine, FakeAri]) -> AsyncIterator[Shift]:
    engine, fake = fake_pbx
    async with phone_volunteer(engine, "Outage", dial_mode="power", max_attempts=1) as (
        campaign,
        session_id,
        queue,
    ):
        yield Shift(engine, fake, campaign, session_id, queue)


async def test_nothing_is_dialed_while_the_pbx_is_away_and_dialing_resumes_when_back(
    shift: Shift,
) -> None:
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


async def test_an_originate_the_pbx_never_answers_is_not_charged_to_the_voter(shift: Shift) -> None:
    engine, fake = shift.engine, shift.fake
    fake.respond("POST", "/channels", delay=2.0)  # Asterisk frozen: no answer in time
    await engine.volunteers.start_calling(shift.session_id)

    async def given_back() -> list[Attempt]:
        return [a for a in await shift.attempts() if a.state == CallState.ENDED]

    [attempt, *_] = await wait_until(given_back, 10, "the unanswered originate to end")
    assert attempt.outcome is None, "our failure was charged to the voter"
    voter = await engine.store.get_voter(attempt.voter_id)
    assert voter.next_attempt_at is None, "the voter was pushed back"
    open_now = [a for a in await shift.attempts() if a.voter_id == voter.id and not a.ended_at]
    assert voter.attempts <= len(open_now), "the unplaced call was counted as an attempt"


async def test_calls_that_vanish_while_the_pbx_is_away_are_charged_honestly(shift: Shift) -> None:
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


async def test_an_answer_that_found_no_engine_in_stasis_counts_as_an_abandon(shift: Shift) -> None:
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


async def test_every_outage_holds_dialing_even_when_it_looks_like_the_last(shift: Shift) -> None:
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


async def test_a_resume_overtaken_by_a_new_outage_keeps_dialing_held(
    shift: Shift, monkeypatch: pytest.MonkeyPatch
) -> None:
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
