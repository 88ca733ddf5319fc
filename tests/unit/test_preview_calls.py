"""Preview dialing through the engine against a fake ARI: cards offered, Call placed without
AMD, answered straight into the volunteer's bridge, busy, skip, cancel, break, log-out and a
dropped phone — and every voter given back as the rules say."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from engine.app import Engine
from engine.calls.preview import PreviewCalls
from engine.errors import NotAllowed
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

    @property
    def preview(self) -> PreviewCalls:
        assert self.engine.telephony is not None
        return self.engine.telephony.preview

    async def state(self) -> SessionState:
        return (await self.engine.store.get_session(self.session_id)).state

    async def offer(self) -> None:
        """Wait for the dialer's tick to show the volunteer a card (it offers one to each
        ready volunteer of a preview campaign)."""
        await self.wait_state(SessionState.PREVIEWING)

    async def card(self) -> Event:
        return await self.next_event("voter")

    async def next_event(self, kind: str) -> Event:
        while True:
            event = await asyncio.wait_for(self.events.get(), 5)
            if event["type"] == kind:
                return event

    async def attempt(self) -> Attempt:
        session = await self.engine.store.get_session(self.session_id)
        assert session.attempt_id is not None
        return await self.engine.store.get_attempt(session.attempt_id)

    async def push(self, kind: str, channel_id: str | None, **fields: Any) -> None:
        await self.fake.push_event({"type": kind, "channel": {"id": channel_id}, **fields})

    async def wait_state(self, *states: SessionState) -> None:
        async def reached() -> bool:
            return await self.state() in states

        await wait_until(reached, 5, f"session to be {states}", 0.01)

    async def wait_free(self) -> None:
        """Done with the call: ready, or already shown the next card by the dialer."""
        await self.wait_state(SessionState.READY, SessionState.PREVIEWING)


@pytest.fixture
async def shift(fake_pbx: tuple[Engine, FakeAri]) -> AsyncIterator[Shift]:
    engine, fake = fake_pbx
    settings = {"dial_mode": "preview", "script": "Hi {{ first_name }}"}
    async with phone_volunteer(engine, "Preview", **settings) as (campaign, session_id, queue):
        await engine.volunteers.start_calling(session_id)
        yield Shift(engine, fake, campaign, session_id, queue)


async def test_a_ready_volunteer_is_shown_a_voter_before_any_call(shift: Shift) -> None:
    await shift.offer()
    card = await shift.card()
    assert card["preview"] is True
    assert card["voter"]["first_name"] == "Ann"
    assert card["script"] == "Hi Ann"
    assert await shift.state() == SessionState.PREVIEWING
    assert not shift.fake.requests_to("POST", "/channels")
    attempt = await shift.attempt()
    assert (attempt.state, attempt.session_id) == (CallState.CLAIMED, shift.session_id)
    session = await shift.engine.store.get_session(shift.session_id)
    assert await shift.preview.offer(shift.campaign, [session]) == 0  # one card at a time


async def test_call_originates_straight_into_stasis_without_amd_and_rings_the_volunteer(
    shift: Shift,
) -> None:
    await shift.offer()
    await shift.engine.volunteers.call_voter(shift.session_id)
    assert await shift.state() == SessionState.RINGING
    [originate] = shift.fake.requests_to("POST", "/channels")
    assert originate.query["endpoint"] == "PJSIP/+12025550101@carrier"
    assert (originate.query["app"], originate.query["appArgs"]) == ("phonebank", "preview")
    assert "context" not in originate.query  # no phonebank-amd, so no AMD()
    [ring] = shift.fake.requests_to("POST", "/channels/phone-1/play")
    assert ring.query["media"] == "tone:ring;tonezone=us"


async def test_an_answer_is_bridged_at_once_and_counts_as_a_contact_not_a_live_answer(
    shift: Shift,
) -> None:
    await shift.offer()
    await shift.engine.volunteers.call_voter(shift.session_id)
    channel_id = (await shift.attempt()).channel_id
    await shift.push("StasisStart", channel_id, args=["preview"])
    await shift.wait_state(SessionState.TALKING)
    assert shift.fake.requests_to("POST", "/bridges/br-1/addChannel")[0].query["channel"] == (
        channel_id
    )
    ring_id = shift.fake.requests_to("POST", "/channels/phone-1/play")[0].query["playbackId"]
    assert shift.fake.requests_to("DELETE", f"/playbacks/{ring_id}")  # the ringing stops
    await shift.push("ChannelDestroyed", channel_id, cause=16)
    await shift.wait_state(SessionState.WRAP_UP)
    attempt = await shift.attempt()
    assert (attempt.outcome, attempt.amd_verdict) == (CallOutcome.CONTACT, "")
    assert attempt.bridged_at is not None
    assert attempt.claimed_at is not None
    assert await shift.engine.store.abandon_counts(shift.campaign.id, attempt.claimed_at) == (0, 0)
    voter = await shift.engine.store.get_voter(attempt.voter_id)
    assert (voter.status, voter.attempts) == (VoterStatus.DONE, 1)


async def test_busy_is_recorded_retried_and_told_in_words(shift: Shift) -> None:
    await shift.offer()
    await shift.engine.volunteers.call_voter(shift.session_id)
    attempt = await shift.attempt()
    await shift.push("ChannelDestroyed", attempt.channel_id, cause=17)
    ended = await shift.next_event("preview_ended")
    assert (ended["outcome"], ended["message"]) == ("busy", "Busy")
    await shift.wait_free()
    attempt = await shift.engine.store.get_attempt(attempt.id)
    assert attempt.outcome == CallOutcome.BUSY
    voter = await shift.engine.store.get_voter(attempt.voter_id)
    assert (voter.status, voter.attempts) == (VoterStatus.RETRY, 1)
    await shift.offer()
    assert (await shift.card())["voter"]["first_name"] == "Bob"


async def test_skip_gives_the_voter_back_untouched_and_the_next_card_is_someone_else(
    shift: Shift,
) -> None:
    await shift.offer()
    skipped = await shift.attempt()
    await shift.engine.volunteers.skip_voter(shift.session_id)
    assert await shift.state() == SessionState.READY
    voter = await shift.engine.store.get_voter(skipped.voter_id)
    assert (voter.status, voter.attempts) == (VoterStatus.PENDING, 0)
    attempt = await shift.engine.store.get_attempt(skipped.id)
    assert (attempt.state, attempt.outcome) == (CallState.ENDED, None)
    await shift.offer()
    assert (await shift.attempt()).voter_id != skipped.voter_id
    assert not shift.fake.requests_to("POST", "/channels")


async def test_cancel_while_ringing_hangs_up_and_counts_as_no_answer(shift: Shift) -> None:
    await shift.offer()
    await shift.engine.volunteers.call_voter(shift.session_id)
    attempt = await shift.attempt()
    await shift.engine.volunteers.cancel_call(shift.session_id)
    assert await shift.state() == SessionState.READY
    assert shift.fake.requests_to("DELETE", f"/channels/{attempt.channel_id}")
    attempt = await shift.engine.store.get_attempt(attempt.id)
    assert attempt.outcome == CallOutcome.NO_ANSWER
    assert not shift.preview.by_channel and not shift.preview.by_session


async def test_an_answer_after_cancel_is_hung_up_not_bridged(shift: Shift) -> None:
    await shift.offer()
    await shift.engine.volunteers.call_voter(shift.session_id)
    channel_id = (await shift.attempt()).channel_id
    await shift.engine.volunteers.cancel_call(shift.session_id)
    hangups = len(shift.fake.requests_to("DELETE", f"/channels/{channel_id}"))
    await shift.push("StasisStart", channel_id, args=["preview"])

    def hung_up_again() -> bool:
        return len(shift.fake.requests_to("DELETE", f"/channels/{channel_id}")) > hangups

    await wait_until(hung_up_again, 5, "the late answer to be hung up", 0.01)
    assert not shift.fake.requests_to("POST", "/bridges/br-1/addChannel")
    assert await shift.state() in (SessionState.READY, SessionState.PREVIEWING)


async def _answered_while_ringing(shift: Shift) -> tuple[str, str]:
    """Call, then the voter answers; returns (voter channel, ring tone playback id)."""
    await shift.offer()
    await shift.engine.volunteers.call_voter(shift.session_id)
    channel_id = (await shift.attempt()).channel_id
    assert channel_id is not None
    ring_id = shift.fake.requests_to("POST", "/channels/phone-1/play")[0].query["playbackId"]
    return channel_id, ring_id


async def test_the_voter_is_put_through_only_once_the_ring_tone_has_ended(shift: Shift) -> None:
    """Issue 11, item 17: until the tone has really ended the volunteer's channel is out of
    the bridge's mix, and a voter bridged meanwhile hears nothing from the volunteer."""
    channel_id, ring_id = await _answered_while_ringing(shift)
    await shift.push("StasisStart", channel_id, args=["preview"])
    await wait_until(lambda: shift.fake.requests_to("DELETE", f"/playbacks/{ring_id}"), 5)
    with pytest.raises(AssertionError, match="timed out"):  # not before the tone ends
        await wait_until(
            lambda: shift.fake.requests_to("POST", "/bridges/br-1/addChannel"), 0.3, "bridged"
        )
    await shift.fake.push_event({"type": "PlaybackFinished", "playback": {"id": ring_id}})
    await shift.wait_state(SessionState.TALKING)
    assert shift.fake.requests_to("POST", "/bridges/br-1/addChannel")


async def test_a_ring_tone_that_refuses_to_stop_for_an_instant_is_asked_again(shift: Shift) -> None:
    """Asterisk refuses to stop a tone in the instant after it started (HTTP 500): the answer
    must still be put through, not dropped with the voter left on a silent line."""
    channel_id, ring_id = await _answered_while_ringing(shift)
    refused = {"message": "Could not stop playback"}
    shift.fake.respond("DELETE", f"/playbacks/{ring_id}", status=500, body=refused)
    await shift.push("StasisStart", channel_id, args=["preview"])
    await wait_until(lambda: shift.fake.requests_to("DELETE", f"/playbacks/{ring_id}"), 5)
    shift.fake.respond("DELETE", f"/playbacks/{ring_id}", status=204)
    await wait_until(lambda: len(shift.fake.requests_to("DELETE", f"/playbacks/{ring_id}")) > 1)
    await shift.fake.push_event({"type": "PlaybackFinished", "playback": {"id": ring_id}})
    await shift.wait_state(SessionState.TALKING)


async def test_a_break_while_ringing_hangs_up_and_pauses(shift: Shift) -> None:
    await shift.offer()
    await shift.engine.volunteers.call_voter(shift.session_id)
    attempt = await shift.attempt()
    await shift.engine.volunteers.pause(shift.session_id)
    assert await shift.state() == SessionState.PAUSED
    assert shift.fake.requests_to("DELETE", f"/channels/{attempt.channel_id}")
    assert (await shift.engine.store.get_attempt(attempt.id)).state == CallState.ENDED


@pytest.mark.parametrize("leave", ["pause", "log_out", "phone_dropped"])
async def test_leaving_a_card_gives_the_voter_back(shift: Shift, leave: str) -> None:
    await shift.offer()
    held = await shift.attempt()
    volunteers = shift.engine.volunteers
    if leave == "phone_dropped":
        assert shift.engine.telephony is not None
        session = await shift.engine.store.get_session(shift.session_id)
        await shift.engine.telephony.phone_dropped(session)
    else:
        await getattr(volunteers, leave)(shift.session_id)
    expected = {
        "pause": SessionState.PAUSED,
        "log_out": SessionState.LOGGED_OUT,
        "phone_dropped": SessionState.PHONE_DISCONNECTED,
    }
    assert await shift.state() == expected[leave]
    voter = await shift.engine.store.get_voter(held.voter_id)
    assert (voter.status, voter.attempts) == (VoterStatus.PENDING, 0)
    assert not shift.preview.by_session


async def test_a_number_put_on_do_not_call_after_the_card_is_never_called(shift: Shift) -> None:
    await shift.offer()
    attempt = await shift.attempt()
    await shift.engine.operators.add_dnc("test", attempt.phone, shift.campaign.id, "asked")
    with pytest.raises(NotAllowed, match="do-not-call"):
        await shift.engine.volunteers.call_voter(shift.session_id)
    assert not shift.fake.requests_to("POST", "/channels")
    assert await shift.state() == SessionState.READY
    voter = await shift.engine.store.get_voter(attempt.voter_id)
    assert voter.status == VoterStatus.DNC


async def test_a_second_call_press_is_refused_while_it_rings(shift: Shift) -> None:
    await shift.offer()
    await shift.engine.volunteers.call_voter(shift.session_id)
    with pytest.raises(NotAllowed, match="already ringing"):
        await shift.engine.volunteers.call_voter(shift.session_id)
    assert len(shift.fake.requests_to("POST", "/channels")) == 1


async def test_a_refused_originate_is_a_failure_of_ours_and_refunds_the_attempt(
    shift: Shift,
) -> None:
    shift.fake.respond("POST", "/channels", status=500, body={"message": "boom"})
    await shift.offer()
    attempt = await shift.attempt()
    await shift.engine.volunteers.call_voter(shift.session_id)
    ended = await shift.next_event("preview_ended")
    assert ended["outcome"] == "failed"
    await shift.wait_free()
    voter = await shift.engine.store.get_voter(attempt.voter_id)
    assert (voter.status, voter.attempts) == (VoterStatus.RETRY, 0)


async def test_a_ringing_call_lost_with_the_pbx_is_not_charged_and_the_volunteer_is_told(
    shift: Shift,
) -> None:
    await shift.offer()
    await shift.engine.volunteers.call_voter(shift.session_id)
    attempt = await shift.attempt()
    await shift.fake.drop_websockets()  # back at once, and the call is no longer there
    ended = await shift.next_event("preview_ended")
    assert "phone system" in ended["message"]
    await shift.wait_free()
    attempt = await shift.engine.store.get_attempt(attempt.id)
    assert (attempt.state, attempt.outcome) == (CallState.ENDED, None)
    voter = await shift.engine.store.get_voter(attempt.voter_id)
    assert voter.attempts == 0 and voter.status != VoterStatus.DONE


async def test_call_is_refused_in_words_while_the_phone_system_is_away(shift: Shift) -> None:
    await shift.offer()
    shift.fake.refuse_websockets = True
    await shift.fake.drop_websockets()
    telephony = shift.engine.telephony
    assert telephony is not None
    await wait_until(lambda: not telephony.gate.open, 5, "dialing to be held", 0.01)
    with pytest.raises(NotAllowed, match="phone system"):
        await shift.engine.volunteers.call_voter(shift.session_id)
    assert not shift.fake.requests_to("POST", "/channels")


async def test_a_preview_call_that_never_rang_is_our_failure_not_no_answer(shift: Shift) -> None:
    """The carrier never answered the INVITE (a silent network): Asterisk's ring timeout
    reads "no answer", but the voter was never rung: the attempt is given back."""
    await shift.offer()
    await shift.engine.volunteers.call_voter(shift.session_id)
    attempt = await shift.attempt()
    await shift.push("ChannelDestroyed", attempt.channel_id, cause=19, tech_cause=480)
    ended = await shift.next_event("preview_ended")
    assert ended["outcome"] == "failed"
    await shift.wait_free()
    attempt = await shift.engine.store.get_attempt(attempt.id)
    assert attempt.outcome == CallOutcome.FAILED
    voter = await shift.engine.store.get_voter(attempt.voter_id)
    assert (voter.status, voter.attempts) == (VoterStatus.RETRY, 0)


async def test_a_preview_call_that_rang_out_is_no_answer_charged_to_the_voter(shift: Shift) -> None:
    await shift.offer()
    await shift.engine.volunteers.call_voter(shift.session_id)
    attempt = await shift.attempt()
    await _rings(shift, attempt.channel_id)
    await shift.push("ChannelDestroyed", attempt.channel_id, cause=19, tech_cause=480)
    ended = await shift.next_event("preview_ended")
    assert ended["outcome"] == "no answer"
    attempt = await shift.engine.store.get_attempt(attempt.id)
    assert attempt.outcome == CallOutcome.NO_ANSWER
    voter = await shift.engine.store.get_voter(attempt.voter_id)
    assert voter.attempts == 1


async def test_a_preview_call_ending_while_dialing_is_held_is_our_failure(shift: Shift) -> None:
    await shift.offer()
    await shift.engine.volunteers.call_voter(shift.session_id)
    attempt = await shift.attempt()
    await _rings(shift, attempt.channel_id)
    assert shift.engine.telephony is not None
    shift.engine.telephony.gate.hold("trunk down", "The phone line to the carrier is down.")
    await shift.push("ChannelDestroyed", attempt.channel_id, cause=19, tech_cause=480)
    assert (await shift.next_event("preview_ended"))["outcome"] == "failed"
    attempt = await shift.engine.store.get_attempt(attempt.id)
    assert attempt.outcome == CallOutcome.FAILED
    voter = await shift.engine.store.get_voter(attempt.voter_id)
    assert voter.attempts == 0


async def _rings(shift: Shift, channel_id: str | None) -> None:
    """The carrier answered the INVITE: the voter's phone rings (180 Ringing)."""
    assert channel_id is not None
    event = {"type": "ChannelStateChange", "channel": {"id": channel_id, "state": "Ringing"}}
    await shift.fake.push_event(event)
    await wait_until(lambda: shift.preview.by_channel[channel_id].rang, 5, "the ring", 0.01)
