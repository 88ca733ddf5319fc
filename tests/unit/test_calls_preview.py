"""Preview calls (engine/calls/preview.py) against a fake ARI, without the rest of the engine:
each call has its own owner, so one volunteer's slow call never holds up another's, and the
races — a hang-up while the answer is put through, letting go while the call is being placed,
an answer after letting go — end each call once, without an error in any task."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from engine.ari.client import AriClient
from engine.ari.event_types import Channel
from engine.audio.media import Player
from engine.calls.gate import DialingGate
from engine.calls.no_answers import RecentNoAnswers
from engine.calls.preview import LOST_WORDS, PreviewCall, PreviewCalls
from engine.calls.states import CallPhase
from engine.calls.voter_release import settle_voter
from engine.models import (
    Attempt,
    CallOutcome,
    CallState,
    Campaign,
    Session,
    SessionState,
    Voter,
    VoterStatus,
)
from engine.sessions.states import SessionEvent
from engine.store.sqlite.store import SqliteStore
from tests.helpers import wait_until
from tests.unit.fake_ari import FakeAri
from tests.unit.store_helpers import Row, session_for


@dataclass
class RecordingSessions:
    """The session side (engine/calls/ports.SessionEvents), recording what calls tell it."""

    store: SqliteStore
    told: list[tuple[str, int, str]] = field(default_factory=list)

    async def ready_sessions(self, campaign_id: int) -> list[Session]:
        return []

    async def call_connected(
        self, session: Session, attempt: Attempt, voter: Voter, campaign: Campaign
    ) -> Session:
        self.told.append(("connected", session.id, ""))
        return await self.store.update_session(session.id, state=SessionState.TALKING)

    async def call_ended(self, session: Session) -> Session:
        self.told.append(("ended", session.id, ""))
        return await self.store.update_session(session.id, state=SessionState.WRAP_UP)

    async def preview_offered(
        self, session: Session, attempt: Attempt, voter: Voter, campaign: Campaign
    ) -> Session:
        return await self.store.update_session(
            session.id, state=SessionState.PREVIEWING, attempt_id=attempt.id
        )

    async def preview_not_reached(
        self, session: Session, attempt_id: int, outcome: str, message: str
    ) -> Session:
        self.told.append(("not reached", session.id, message))
        return await self.store.update_session(session.id, state=SessionState.READY)

    async def transition(self, session: Session, event: SessionEvent, **fields: Any) -> Session:
        assert event == SessionEvent.CALL_PLACED
        return await self.store.update_session(session.id, state=SessionState.RINGING)


@dataclass
class Rig:
    preview: PreviewCalls
    fake: FakeAri
    store: SqliteStore
    sessions: RecordingSessions
    campaign: Campaign

    async def card(
        self, email: str = "ann@example.org", pin: str = "1234"
    ) -> tuple[Session, PreviewCall]:
        """A ready volunteer with a phone, shown the next voter."""
        session_id = await session_for(self.store, self.campaign.id, pin, email)
        session = await self.store.update_session(
            session_id,
            state=SessionState.READY,
            channel_id=f"phone-{session_id}",
            bridge_id=f"br-{session_id}",
        )
        assert await self.preview.offer(self.campaign, [session], ["America/New_York", ""]) == 1
        return await self.store.get_session(session_id), self.preview.by_session[session_id]

    async def placed(self, email: str = "ann@example.org") -> tuple[Session, PreviewCall]:
        session, call = await self.card(email)
        assert await self.preview.place(session) is None
        return await self.store.get_session(session.id), call

    async def settled(self, call: PreviewCall) -> None:
        async def nothing() -> None:
            return None

        await call.owner.run(nothing)

    async def attempt(self, call: PreviewCall) -> Attempt:
        return await self.store.get_attempt(call.attempt_id)

    def hangups(self, call: PreviewCall) -> int:
        return len(self.fake.requests_to("DELETE", f"/channels/{call.channel_id}"))


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    store = SqliteStore.open(":memory:")
    campaign = await store.create_campaign(
        "Fall", dial_mode="preview", calling_hours_start="00:00", calling_hours_end="24:00"
    )
    await store.add_voters(campaign.id, [Row(f"+1202555{n:04d}") for n in range(1, 6)])
    sessions = RecordingSessions(store)
    async with FakeAri() as fake, AriClient.connect(fake.settings()) as ari:
        preview = PreviewCalls(
            ari,
            store,
            Player(ari),
            DialingGate(),
            RecentNoAnswers(store, settle_voter),
            sessions,
            lambda campaign_id, attempt_id, outcome: None,
            trunk="carrier",
            connecting=set(),
        )
        yield Rig(preview, fake, store, sessions, campaign)
        await preview.close()
    await store.close()


@pytest.fixture(autouse=True)
def no_task_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail the test if a call's step or helper task logged an error."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    assert "IllegalTransition" not in caplog.text


async def test_an_answer_is_put_through_and_its_hang_up_is_a_contact(rig: Rig) -> None:
    session, call = await rig.placed()
    assert call.channel_id is not None
    rig.preview.on_answer(Channel(call.channel_id))
    await rig.settled(call)
    assert call.phase == CallPhase.CONNECTED
    await rig.preview.on_gone(call.channel_id, 16)
    assert (await rig.attempt(call)).outcome == CallOutcome.CONTACT
    assert rig.sessions.told == [("connected", session.id, ""), ("ended", session.id, "")]


async def test_a_hang_up_while_the_answer_is_put_through_ends_it_once(rig: Rig) -> None:
    session, call = await rig.placed()
    assert call.channel_id is not None
    rig.fake.respond("POST", f"/bridges/{session.bridge_id}/addChannel", status=204, delay=0.3)
    rig.preview.on_answer(Channel(call.channel_id))
    await asyncio.sleep(0.05)
    await rig.preview.on_gone(call.channel_id, 16)
    attempt = await rig.attempt(call)
    assert (attempt.state, attempt.outcome) == (CallState.ENDED, CallOutcome.CONTACT)
    assert [t[0] for t in rig.sessions.told] == ["connected", "ended"]


async def test_an_answer_that_cannot_be_put_through_is_our_failure(rig: Rig) -> None:
    session, call = await rig.placed()
    assert call.channel_id is not None
    rig.fake.respond(
        "POST", f"/bridges/{session.bridge_id}/addChannel", status=404, body={"message": "no"}
    )
    rig.preview.on_answer(Channel(call.channel_id))
    await rig.settled(call)
    assert call.phase == CallPhase.FAILING
    assert rig.hangups(call) == 1
    await rig.preview.on_gone(call.channel_id, 16)
    assert (await rig.attempt(call)).outcome == CallOutcome.FAILED


async def test_letting_go_while_the_call_is_placed_waits_for_it_then_hangs_up(rig: Rig) -> None:
    session, call = await rig.card()
    rig.fake.respond("POST", "/channels", status=200, body={"id": "x"}, delay=0.3)
    placing = asyncio.create_task(rig.preview.place(session))
    await asyncio.sleep(0.05)
    assert await rig.preview.release(await rig.store.get_session(session.id)) is True
    assert await placing is None
    assert rig.hangups(call) == 1
    attempt = await rig.attempt(call)
    assert (attempt.state, attempt.outcome) == (CallState.ENDED, CallOutcome.NO_ANSWER)


async def test_an_answer_after_letting_go_is_hung_up(rig: Rig) -> None:
    session, call = await rig.placed()
    assert call.channel_id is not None
    await rig.preview.release(session)
    rig.preview.on_answer(Channel(call.channel_id))
    await wait_until(lambda: rig.hangups(call) == 2, 5, "the second hang-up", 0.01)
    assert (await rig.attempt(call)).outcome == CallOutcome.NO_ANSWER
    assert rig.sessions.told == []


async def test_letting_go_of_an_uncalled_card_gives_the_voter_back(rig: Rig) -> None:
    session, call = await rig.card()
    assert await rig.preview.release(session) is True
    attempt = await rig.attempt(call)
    assert (attempt.state, attempt.outcome) == (CallState.ENDED, None)
    voter = await rig.store.get_voter(call.voter.id)
    assert (voter.status, voter.attempts) == (VoterStatus.PENDING, 0)


async def test_a_connected_call_cannot_be_let_go(rig: Rig) -> None:
    session, call = await rig.placed()
    assert call.channel_id is not None
    rig.preview.on_answer(Channel(call.channel_id))
    await rig.settled(call)
    assert await rig.preview.release(session) is False


async def test_busy_tells_the_volunteer(rig: Rig) -> None:
    session, call = await rig.placed()
    assert call.channel_id is not None
    rig.preview.on_state_change(Channel(call.channel_id, "Ringing"))
    await rig.preview.on_gone(call.channel_id, 17)
    assert (await rig.attempt(call)).outcome == CallOutcome.BUSY
    assert rig.sessions.told == [("not reached", session.id, "Busy")]


async def test_a_lost_ringing_call_gives_the_voter_back_and_says_why(rig: Rig) -> None:
    session, call = await rig.placed()
    assert call.channel_id is not None
    await rig.preview.on_lost(call.channel_id)
    assert (await rig.attempt(call)).outcome is None
    assert rig.sessions.told == [("not reached", session.id, LOST_WORDS)]


async def test_one_volunteers_slow_call_does_not_hold_up_another(rig: Rig) -> None:
    """No lock is shared by preview calls: the owner of each call is its own."""
    first, _ = await rig.card("ann@example.org")
    second, second_call = await rig.card("bob@example.org", "5678")
    rig.fake.respond("POST", "/channels", status=200, body={"id": "x"}, delay=1.0)
    slow = asyncio.create_task(rig.preview.place(first))
    await asyncio.sleep(0.05)
    started = asyncio.get_running_loop().time()
    assert await rig.preview.release(second) is True
    assert asyncio.get_running_loop().time() - started < 0.9  # the originate takes 1 s
    assert (await rig.attempt(second_call)).state == CallState.ENDED
    await slow
