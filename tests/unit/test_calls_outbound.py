"""Automatic calls (engine/calls/outbound.py, answers.py) against a fake ARI, without the rest
of the engine: the 2-second abandon rule, AMD verdicts, the voicemail drop, a hang-up in every
state, and the races — a hang-up during bridging, a verdict after the hang-up, the volunteer
dropping during bridging — none of which may raise in a task."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from engine.ari.client import AriClient
from engine.ari.event_types import Channel, PlaybackFinished
from engine.audio.media import Player
from engine.audio.sounds import SoundLibrary
from engine.calls.gate import DialingGate
from engine.calls.live import LiveCall
from engine.calls.no_answers import RecentNoAnswers
from engine.calls.outbound import OutboundCalls
from engine.calls.stasis import AmdResult, AmdVerdict, StasisArg, amd_result
from engine.calls.states import CallPhase
from engine.calls.voter_release import settle_voter
from engine.calls.wakeups import Wakeups
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

NY = "America/New_York"


class CannedSounds(SoundLibrary):
    """Every message is one ready-made sound: no espeak-ng in unit tests."""

    async def media_for(self, text: str) -> str:
        return "sound:message"


@dataclass
class RecordingSessions:
    """The session side (engine/calls/ports.SessionEvents), recording what calls tell it."""

    store: SqliteStore
    ready: list[int] = field(default_factory=list)
    connected: list[tuple[int, int]] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)

    async def ready_sessions(self, campaign_id: int) -> list[Session]:
        return [await self.store.get_session(s) for s in self.ready]

    async def call_connected(
        self, session: Session, attempt: Attempt, voter: Voter, campaign: Campaign
    ) -> Session:
        self.ready.remove(session.id)
        self.connected.append((session.id, attempt.id))
        return await self.store.update_session(session.id, state=SessionState.TALKING)

    async def call_ended(self, session: Session) -> Session:
        self.ended.append(session.id)
        return await self.store.update_session(session.id, state=SessionState.WRAP_UP)

    async def preview_offered(
        self, session: Session, attempt: Attempt, voter: Voter, campaign: Campaign
    ) -> Session:
        raise AssertionError("automatic calls offer no cards")

    async def preview_not_reached(
        self, session: Session, attempt_id: int, outcome: str, message: str
    ) -> Session:
        raise AssertionError("automatic calls are not preview calls")

    async def transition(self, session: Session, event: SessionEvent, **fields: Any) -> Session:
        raise AssertionError("automatic calls move no session by event")


@dataclass
class Rig:
    calls: OutboundCalls
    fake: FakeAri
    store: SqliteStore
    sessions: RecordingSessions
    player: Player
    gate: DialingGate
    campaign: Campaign
    published: list[CallOutcome]

    async def placed(self) -> LiveCall:
        """Claim the next voter and originate the call to them."""
        [(voter, attempt)] = await self.store.claim_voters(
            self.campaign.id, 1, datetime.now(UTC), [NY, ""], 3
        )
        call = self.calls.register(self.campaign, voter, attempt)
        await self.calls.dial(call)
        return call

    async def settled(self, call: LiveCall) -> None:
        """Wait until every step posted to the call so far has run."""

        async def nothing() -> None:
            return None

        await call.owner.run(nothing)

    async def answered(self, call: LiveCall) -> None:
        self.calls.on_state_change(Channel(call.channel_id, "Up"))
        await self.settled(call)

    async def verdict(self, call: LiveCall, verdict: str) -> None:
        self.calls.on_verdict(Channel(call.channel_id), ["outbound", verdict, "", "1.5e9"])
        await self.settled(call)

    async def gone(self, call: LiveCall, cause: int = 16) -> None:
        await self.calls.on_gone(call.channel_id, cause)

    async def attempt(self, call: LiveCall) -> Attempt:
        return await self.store.get_attempt(call.attempt_id)

    async def ended(self, call: LiveCall) -> Attempt:
        async def done() -> bool:
            return (await self.attempt(call)).state == CallState.ENDED

        await wait_until(done, 5, "the attempt to end", 0.01)
        return await self.attempt(call)

    async def ready_volunteer(self, email: str = "ann@example.org") -> int:
        session_id = await session_for(self.store, self.campaign.id, email=email)
        await self.store.update_session(
            session_id,
            state=SessionState.READY,
            channel_id=f"phone-{session_id}",
            bridge_id=f"br-{session_id}",
        )
        self.sessions.ready.append(session_id)
        return session_id

    def hangups(self, call: LiveCall) -> int:
        return len(self.fake.requests_to("DELETE", f"/channels/{call.channel_id}"))

    def finish_playbacks(self, channel_id: str) -> None:
        for request in self.fake.requests_to("POST", f"/channels/{channel_id}/play"):
            self.player.on_PlaybackFinished(PlaybackFinished(request.query["playbackId"]))


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    store = SqliteStore.open(":memory:")
    campaign = await store.create_campaign("Fall")
    await store.add_voters(campaign.id, [Row(f"+1202555{n:04d}") for n in range(1, 6)])
    sessions = RecordingSessions(store)
    published: list[CallOutcome] = []
    async with FakeAri() as fake, AriClient.connect(fake.settings()) as ari:
        player, gate = Player(ari), DialingGate()
        calls = OutboundCalls(
            ari,
            store,
            player,
            CannedSounds(tmp_path, PurePosixPath("/sounds")),
            gate,
            RecentNoAnswers(store, settle_voter),
            Wakeups(),
            sessions,
            lambda campaign_id, attempt_id, outcome: published.append(outcome),
            trunk="carrier",
        )
        yield Rig(calls, fake, store, sessions, player, gate, campaign, published)
        await calls.close()
    await store.close()


@pytest.fixture
def no_task_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail the test if a call's step or helper task logged an error."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    assert "IllegalTransition" not in caplog.text


pytestmark = pytest.mark.usefixtures("no_task_errors")


# --- verdicts ------------------------------------------------------------------------------
async def test_a_person_is_bridged_to_a_ready_volunteer_with_a_beep(rig: Rig) -> None:
    session_id = await rig.ready_volunteer()
    call = await rig.placed()
    await rig.answered(call)
    await rig.verdict(call, "HUMAN")
    await wait_until(lambda: rig.sessions.connected, 5, "the volunteer to be connected", 0.01)
    [add] = rig.fake.requests_to("POST", f"/bridges/br-{session_id}/addChannel")
    assert add.query["channel"] == call.channel_id
    [beep] = rig.fake.requests_to("POST", f"/channels/phone-{session_id}/play")
    assert beep.query["media"] == "sound:beep"
    attempt = await rig.attempt(call)
    assert (attempt.state, attempt.session_id, attempt.amd_verdict) == (
        CallState.CONNECTED,
        session_id,
        "HUMAN",
    )
    assert len(rig.calls.bridge_latencies) == 1
    await rig.gone(call)
    attempt = await rig.ended(call)
    assert attempt.outcome == CallOutcome.CONTACT
    assert rig.sessions.ended == [session_id]
    assert rig.published == [CallOutcome.CONTACT]


async def test_no_volunteer_within_2_seconds_abandons_with_the_message(rig: Rig) -> None:
    call = await rig.placed()
    await rig.answered(call)
    started = asyncio.get_running_loop().time()
    await rig.verdict(call, "HUMAN")

    async def abandoning() -> bool:
        return (await rig.attempt(call)).state == CallState.ABANDONING

    await wait_until(abandoning, 5, "the call to be abandoned", 0.01)
    assert asyncio.get_running_loop().time() - started >= 1.9
    playing = f"/channels/{call.channel_id}/play"
    await wait_until(lambda: rig.fake.requests_to("POST", playing), 5, "the message", 0.01)
    [message] = rig.fake.requests_to("POST", playing)
    assert message.query["media"] == "sound:message"
    assert rig.hangups(call) == 0  # not before the message has played
    rig.finish_playbacks(call.channel_id)
    await wait_until(lambda: rig.hangups(call) == 1, 5, "the hang-up", 0.01)
    await rig.gone(call)
    assert (await rig.ended(call)).outcome == CallOutcome.ABANDONED


async def test_a_volunteer_ready_within_the_2_seconds_gets_the_call(rig: Rig) -> None:
    call = await rig.placed()
    await rig.answered(call)
    await rig.verdict(call, "HUMAN")
    await asyncio.sleep(0.5)
    session_id = await rig.ready_volunteer()
    rig.calls.wakeups.wake(rig.campaign.id)
    await wait_until(lambda: rig.sessions.connected, 5, "the volunteer to be connected", 0.01)
    assert rig.sessions.connected == [(session_id, call.attempt_id)]
    assert rig.calls.bridge_latencies == []  # it waited for a volunteer: not the engine's speed


async def test_a_machine_is_hung_up_and_counts_as_a_machine(rig: Rig) -> None:
    call = await rig.placed()
    await rig.answered(call)
    await rig.verdict(call, "MACHINE")
    assert rig.hangups(call) == 1
    assert call.phase == CallPhase.HANGING_UP
    await rig.gone(call)
    attempt = await rig.ended(call)
    assert (attempt.outcome, attempt.amd_verdict) == (CallOutcome.MACHINE, "MACHINE")


@pytest.mark.parametrize(
    ("connect_notsure", "expected"), [(True, CallPhase.CONNECTING), (False, CallPhase.HANGING_UP)]
)
async def test_notsure_follows_the_campaign_rule(
    rig: Rig, connect_notsure: bool, expected: CallPhase
) -> None:
    rig.campaign = await rig.store.update_campaign(rig.campaign.id, connect_notsure=connect_notsure)
    call = await rig.placed()
    await rig.answered(call)
    packets = f"/channels/{call.channel_id}/variable"
    rig.fake.respond("GET", packets, body={"value": "10"})
    rig.calls.on_verdict(Channel(call.channel_id), ["outbound", "NOTSURE", "", ""])
    if connect_notsure:  # the first count is read; the second, 0.3 s later, has grown
        await wait_until(lambda: rig.fake.requests_to("GET", packets), 5, "the count", 0.01)
    rig.fake.respond("GET", packets, body={"value": "25"})  # packets keep coming: a person
    await rig.settled(call)
    assert call.phase == expected


async def test_notsure_on_a_line_with_no_audio_is_dead_air_our_failure(rig: Rig) -> None:
    call = await rig.placed()
    rig.fake.respond("GET", f"/channels/{call.channel_id}/variable", body={"value": "7"})
    await rig.answered(call)
    await rig.verdict(call, "NOTSURE")
    assert call.phase == CallPhase.FAILING
    assert rig.hangups(call) == 1
    await rig.gone(call)
    assert (await rig.ended(call)).outcome == CallOutcome.FAILED


@pytest.mark.parametrize(
    ("now", "expected"), [("7", CallPhase.FAILING), ("40", CallPhase.CONNECTING)]
)
async def test_a_silence_verdict_on_a_line_that_received_nothing_is_dead_air(
    rig: Rig, now: str, expected: CallPhase
) -> None:
    """The streaming detector hears a dead line as silence (HUMAN/SILENCE): no packet since
    it began to listen makes it dead air, hung up; packets arriving make it a person."""
    call = await rig.placed()
    await rig.answered(call)
    call.packets_at_listen = "7"
    rig.fake.respond("GET", f"/channels/{call.channel_id}/variable", body={"value": now})
    rig.calls.on_verdict(Channel(call.channel_id), ["outbound", "HUMAN", "SILENCE-800", ""])
    await rig.settled(call)
    assert call.phase == expected
    assert rig.hangups(call) == (1 if expected == CallPhase.FAILING else 0)


async def test_a_machine_gets_the_voicemail_message_when_the_campaign_leaves_one(
    rig: Rig,
) -> None:
    rig.campaign = await rig.store.update_campaign(rig.campaign.id, voicemail_message="Vote!")
    call = await rig.placed()
    await rig.answered(call)
    await rig.verdict(call, "MACHINE")
    [variable] = rig.fake.requests_to("POST", f"/channels/{call.channel_id}/variable")
    assert variable.query["variable"] == "PHONEBANK_MESSAGE"
    assert variable.query["value"] == "message"
    [resume] = rig.fake.requests_to("POST", f"/channels/{call.channel_id}/continue")
    assert resume.query["context"] == "phonebank-voicemail"
    assert rig.hangups(call) == 0
    assert (await rig.attempt(call)).state == CallState.LEAVING_VOICEMAIL
    await rig.gone(call)
    assert (await rig.ended(call)).outcome == CallOutcome.VOICEMAIL_LEFT


# --- a hang-up in every state ------------------------------------------------------------
async def test_hang_up_while_ringing_takes_the_outcome_of_its_cause(rig: Rig) -> None:
    call = await rig.placed()
    rig.calls.on_state_change(Channel(call.channel_id, "Ringing"))
    await rig.gone(call, cause=17)
    assert (await rig.ended(call)).outcome == CallOutcome.BUSY
    voter = await rig.store.get_voter(call.voter.id)
    assert voter.status == VoterStatus.RETRY


async def test_a_call_that_never_rang_is_our_failure_not_no_answer(rig: Rig) -> None:
    call = await rig.placed()
    await rig.gone(call, cause=19)
    assert (await rig.ended(call)).outcome == CallOutcome.FAILED


async def test_hang_up_during_amd(rig: Rig) -> None:
    call = await rig.placed()
    await rig.answered(call)
    await rig.gone(call)
    assert (await rig.ended(call)).outcome == CallOutcome.HUNG_UP_DURING_AMD


async def test_hang_up_while_connecting_is_an_abandon(rig: Rig) -> None:
    call = await rig.placed()
    await rig.answered(call)
    await rig.verdict(call, "HUMAN")
    assert call.phase == CallPhase.CONNECTING
    await rig.gone(call)
    assert (await rig.ended(call)).outcome == CallOutcome.ABANDONED
    await asyncio.sleep(2.2)  # the 2-second search ends without abandoning it again
    assert not rig.fake.requests_to("POST", f"/channels/{call.channel_id}/play")


async def test_hang_up_during_the_abandon_message(rig: Rig) -> None:
    call = await rig.placed()
    await rig.answered(call)
    await rig.verdict(call, "HUMAN")
    await wait_until(
        lambda: rig.fake.requests_to("POST", f"/channels/{call.channel_id}/play"), 5, "message"
    )
    rig.player.target_gone(call.channel_id)
    await rig.gone(call)
    assert (await rig.ended(call)).outcome == CallOutcome.ABANDONED


async def test_originate_refused_is_a_failure(rig: Rig) -> None:
    rig.fake.respond("POST", "/channels", status=400, body={"message": "bad"})
    call = await rig.placed()
    assert (await rig.ended(call)).outcome == CallOutcome.FAILED
    assert call.channel_id not in rig.calls.by_channel


async def test_dialing_held_gives_the_voter_back_uncharged(rig: Rig) -> None:
    rig.gate.hold("pbx down", "the phone system is away")
    call = await rig.placed()
    attempt = await rig.ended(call)
    assert attempt.outcome is None
    assert not rig.fake.requests_to("POST", "/channels")
    voter = await rig.store.get_voter(call.voter.id)
    assert (voter.status, voter.attempts) == (VoterStatus.PENDING, 0)


async def test_a_second_report_of_the_same_hang_up_changes_nothing(rig: Rig) -> None:
    call = await rig.placed()
    rig.calls.on_state_change(Channel(call.channel_id, "Ringing"))
    await rig.gone(call, cause=19)
    await rig.gone(call, cause=0)
    assert (await rig.ended(call)).outcome == CallOutcome.NO_ANSWER
    assert rig.published == [CallOutcome.NO_ANSWER]


# --- races --------------------------------------------------------------------------------
async def test_hang_up_during_bridging_ends_the_call_once_as_a_contact(rig: Rig) -> None:
    session_id = await rig.ready_volunteer()
    rig.fake.respond("POST", f"/bridges/br-{session_id}/addChannel", status=204, delay=0.3)
    call = await rig.placed()
    await rig.answered(call)
    await rig.verdict(call, "HUMAN")
    await wait_until(
        lambda: rig.fake.requests_to("POST", f"/bridges/br-{session_id}/addChannel"), 5, "bridging"
    )
    await rig.gone(call)  # arrives while the voter is being put through
    attempt = await rig.ended(call)
    assert attempt.outcome == CallOutcome.CONTACT
    assert rig.sessions.connected == [(session_id, call.attempt_id)]
    assert rig.sessions.ended == [session_id]
    assert rig.published == [CallOutcome.CONTACT]


async def test_a_voter_gone_before_the_bridge_is_an_abandon_and_frees_the_volunteer(
    rig: Rig,
) -> None:
    session_id = await rig.ready_volunteer()
    rig.fake.respond(
        "POST", f"/bridges/br-{session_id}/addChannel", status=404, body={"message": "gone"}
    )
    call = await rig.placed()
    await rig.answered(call)
    await rig.verdict(call, "HUMAN")
    await rig.gone(call)
    assert (await rig.ended(call)).outcome == CallOutcome.ABANDONED
    assert rig.sessions.connected == []
    await wait_until(lambda: not rig.calls.reserved, 5, "the volunteer to be free again", 0.01)


async def test_a_verdict_after_the_hang_up_is_ignored(rig: Rig) -> None:
    call = await rig.placed()
    await rig.answered(call)
    await rig.gone(call)
    rig.calls.on_verdict(Channel(call.channel_id), ["outbound", "HUMAN", "", ""])
    await asyncio.sleep(0.1)
    attempt = await rig.attempt(call)
    assert (attempt.outcome, attempt.amd_verdict) == (CallOutcome.HUNG_UP_DURING_AMD, "")
    assert rig.hangups(call) == 1  # the stray channel is hung up, nothing else


async def test_a_verdict_queued_behind_the_hang_up_is_ignored(rig: Rig) -> None:
    call = await rig.placed()
    await rig.answered(call)
    gone = asyncio.create_task(rig.gone(call))
    await asyncio.sleep(0)  # the hang-up is posted to the call's owner first
    rig.calls.on_verdict(Channel(call.channel_id), ["outbound", "HUMAN", "", ""])
    await gone
    await rig.settled(call)
    assert (await rig.ended(call)).outcome == CallOutcome.HUNG_UP_DURING_AMD
    assert call.phase == CallPhase.ENDED


async def test_the_volunteer_dropping_during_bridging_hangs_up_the_voter(rig: Rig) -> None:
    session_id = await rig.ready_volunteer()
    rig.fake.respond("POST", f"/bridges/br-{session_id}/addChannel", status=204, delay=0.3)
    call = await rig.placed()
    await rig.answered(call)
    await rig.verdict(call, "HUMAN")
    await wait_until(
        lambda: rig.fake.requests_to("POST", f"/bridges/br-{session_id}/addChannel"), 5, "bridging"
    )
    await rig.calls.end_for_session(await rig.store.get_session(session_id))
    assert rig.hangups(call) == 1  # put through, then hung up: not left alone in the bridge
    await rig.gone(call)
    assert (await rig.ended(call)).outcome == CallOutcome.CONTACT


async def test_a_volunteer_who_left_after_being_found_is_not_bridged(rig: Rig) -> None:
    session_id = await rig.ready_volunteer()
    call = await rig.placed()
    await rig.answered(call)
    await rig.store.update_session(session_id, state=SessionState.PAUSED)
    await rig.verdict(call, "HUMAN")
    await asyncio.sleep(0.1)
    assert not rig.fake.requests_to("POST", f"/bridges/br-{session_id}/addChannel")
    assert call.phase == CallPhase.CONNECTING


async def test_a_lost_call_in_amd_is_given_back_uncharged(rig: Rig) -> None:
    call = await rig.placed()
    await rig.answered(call)
    await rig.calls.on_lost(call.channel_id, "the PBX went away")
    attempt = await rig.ended(call)
    assert attempt.outcome is None
    voter = await rig.store.get_voter(call.voter.id)
    assert (voter.status, voter.attempts) == (VoterStatus.PENDING, 0)


async def test_a_lost_conversation_is_a_contact(rig: Rig) -> None:
    session_id = await rig.ready_volunteer()
    call = await rig.placed()
    await rig.answered(call)
    await rig.verdict(call, "HUMAN")
    await wait_until(lambda: rig.sessions.connected, 5, "the volunteer to be connected", 0.01)
    await rig.calls.on_lost(call.channel_id, "the PBX went away")
    assert (await rig.ended(call)).outcome == CallOutcome.CONTACT
    assert rig.sessions.ended == [session_id]


async def test_a_lost_call_answered_while_no_engine_listened_is_an_abandon(rig: Rig) -> None:
    """Recovery notes the verdict the dialplan kept (a person), then the call is lost."""
    call = await rig.placed()
    await rig.answered(call)
    await rig.store.update_attempt(call.attempt_id, amd_verdict="HUMAN")
    await rig.calls.on_lost(call.channel_id, "the PBX went away")
    assert (await rig.ended(call)).outcome == CallOutcome.ABANDONED


async def test_a_lost_machine_being_hung_up_is_a_machine(rig: Rig) -> None:
    call = await rig.placed()
    await rig.answered(call)
    await rig.verdict(call, "MACHINE")
    await rig.calls.on_lost(call.channel_id, "the PBX went away")
    assert (await rig.ended(call)).outcome == CallOutcome.MACHINE


def test_the_stasis_arguments_of_an_automatic_call_are_read_in_order() -> None:
    amd = amd_result(["outbound", "NOTSURE", "TOOLONG-5000", "1700000000.5"])
    assert amd == AmdResult(
        AmdVerdict.NOTSURE, "TOOLONG-5000", datetime.fromtimestamp(1700000000.5, UTC)
    )
    assert amd_result(["outbound"]) == AmdResult("", "", None)
    assert StasisArg("outbound") is StasisArg.OUTBOUND
