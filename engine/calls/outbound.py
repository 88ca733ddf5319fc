"""Outbound calls: originate through the trunk into AMD, then connect, abandon or leave a
message, and record how each attempt ended.

Every originated channel is tracked from the start (the Stasis app is subscribed to the trunk
endpoint), because a call that is not answered, or hangs up during AMD, never enters Stasis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from engine.calls.dead_air import audio_stopped
from engine.calls.lost_calls import give_back_voter, lost_outcome
from engine.calls.no_answers import unanswered_outcome
from engine.calls.states import CallEvent, next_call_state
from engine.calls.voter_release import settle_voter
from engine.clock import utc_now
from engine.errors import AriError, AriNotFound, AriUnavailable
from engine.models import Attempt, CallOutcome, CallState, Campaign, Session, SessionState, Voter
from engine.store.changes import AttemptChanges

if TYPE_CHECKING:
    from engine.telephony.runtime import Telephony

log = logging.getLogger(__name__)

CONNECT_WINDOW_S = 2.0
"""A live answer not connected to a volunteer within this time is abandoned."""
BEEP = "sound:beep"
CONFIRM_GRACE_S = 1.0
"""After an originate that got no answer, the PBX is asked twice, this far apart, whether the
call exists before the voter is given back (a frozen Asterisk may still act on it late)."""


@dataclass
class LiveCall:
    attempt_id: int
    campaign: Campaign
    voter: Voter
    channel_id: str
    state: CallState = CallState.CLAIMED
    answered: bool = False
    session_id: int | None = None
    verdict_at: float = 0.0
    """time.monotonic() of the AMD verdict, for the verdict→bridge measurement."""
    placed_at: float = field(default_factory=time.monotonic)
    answered_at: float | None = None
    """time.monotonic() of the answer: from then on the call is in AMD (for pacing)."""
    unconfirmed: bool = False
    """Its originate got no answer (the PBX down or frozen): it may or may not exist."""
    rang: bool = False
    """The carrier answered the INVITE with ringing (180) or an answer: the network works."""
    dead_air: bool = False
    """Answered, but not one RTP packet came in: the network lost the media, not a voter."""


class OutboundCalls:
    def __init__(self, telephony: Telephony) -> None:
        self.tel = telephony
        self.by_channel: dict[str, LiveCall] = {}
        self.reserved: set[int] = set()
        """Sessions being connected to a call right now (not offered to another)."""
        self.bridge_latencies: list[float] = []
        """Seconds from AMD verdict to the voter being in the volunteer's bridge, for answers
        a volunteer was ready for (not those that waited for one under the 2-second rule):
        the engine's own speed."""

    def in_flight(self, campaign_id: int) -> tuple[int, int]:
        """(calls dialing, live answers waiting for a volunteer) of a campaign."""
        calls = [c for c in self.by_channel.values() if c.campaign.id == campaign_id]
        dialing = sum(c.state in (CallState.CLAIMED, CallState.DIALING) for c in calls)
        return dialing, sum(c.state == CallState.CONNECTING for c in calls)

    def dialing_elapsed(self, campaign_id: int, now: float) -> tuple[list[float], list[float]]:
        """Seconds each of the campaign's dialing calls has been ringing (not answered yet)
        and, for answered ones, in answering-machine detection; `now` is time.monotonic()."""
        ringing: list[float] = []
        amd: list[float] = []
        for call in self.by_channel.values():
            if call.campaign.id != campaign_id or call.state not in (
                CallState.CLAIMED,
                CallState.DIALING,
            ):
                continue
            if call.answered_at is None:
                ringing.append(now - call.placed_at)
            else:
                amd.append(now - call.answered_at)
        return ringing, amd

    def register(self, campaign: Campaign, voter: Voter, attempt: Attempt) -> LiveCall:
        """Track a claimed attempt at once, so pacing counts it before it is originated."""
        channel_id = f"call-{attempt.id}-{uuid.uuid4().hex[:8]}"
        call = LiveCall(attempt.id, campaign, voter, channel_id)
        self.by_channel[channel_id] = call
        return call

    async def dial(self, call: LiveCall) -> None:
        """Originate the call. Dialing held meanwhile, or the PBX not answering: the voter is
        given back untouched (see _confirm); the PBX refusing the call: FAILED."""
        campaign, voter, channel_id = call.campaign, call.voter, call.channel_id
        if not self.tel.gate.open:
            await self.give_back(call, f"not placed: {self.tel.gate.why()}")
            return
        variables = {"PHONEBANK_AMD": campaign.amd_args} if campaign.amd_args else None
        await self._save(call, CallEvent.ORIGINATED, channel_id=channel_id, originated_at=utc_now())
        try:
            await self.tel.ari.originate(
                f"PJSIP/{voter.phone}@{self.tel.trunk}",
                channel_id=channel_id,
                context="phonebank-amd",
                extension="s",
                priority=1,
                timeout=campaign.ring_seconds,
                caller_id=campaign.caller_id or None,
                variables=variables,
            )
        except AriUnavailable as exc:
            log.warning("call %s: the PBX did not answer the originate: %s", channel_id, exc)
            call.unconfirmed = True
            self.tel.spawn(self._confirm(call))
        except AriError as exc:
            log.warning("call %s: originate to %s failed: %s", channel_id, voter.phone, exc)
            await self._finish(call, CallOutcome.FAILED, None)

    async def _confirm(self, call: LiveCall) -> None:
        """Once the PBX answers again, keep the call if its channel exists; else it was never
        placed and the voter is given back (reconcile after a reconnect may get there first)."""
        checks = 0
        while call.channel_id in self.by_channel:
            await self.tel.ari.wait_connected()
            try:
                channels = {c["id"] for c in await self.tel.ari.list_channels()}
            except AriError:
                await asyncio.sleep(CONFIRM_GRACE_S)
                continue
            if call.channel_id in channels:
                call.unconfirmed = False
                log.info("call %s: placed after all", call.channel_id)
                return
            checks += 1
            if checks >= 2:
                await self.on_lost(call.channel_id, "the PBX never placed it")
                return
            await asyncio.sleep(CONFIRM_GRACE_S)

    async def _save(self, call: LiveCall, event: CallEvent, **fields: Any) -> None:
        state = next_call_state(call.state, event)
        log.info("call %s: %s -[%s]-> %s", call.channel_id, call.state, event, state)
        call.state = state
        await self.tel.store.update_attempt(call.attempt_id, state=state, **fields)

    # --- events --------------------------------------------------------------------------
    def on_state_change(self, channel: dict[str, Any]) -> None:
        call = self.by_channel.get(channel["id"])
        if call is None:
            return
        if channel.get("state") in ("Ringing", "Up"):
            call.rang = True
        if channel.get("state") == "Up" and not call.answered:
            call.answered = True
            call.answered_at = time.monotonic()

    async def on_verdict(self, channel: dict[str, Any], args: list[str]) -> None:
        call = self.by_channel.get(channel["id"])
        if call is None:
            log.warning("outbound channel %s is not ours; hanging up", channel["id"])
            with contextlib.suppress(AriNotFound):
                await self.tel.ari.hangup(channel["id"])
            return
        call.verdict_at = time.monotonic()
        verdict, cause, answered_at = ([*args, "", "", ""])[1:4]
        if verdict == "NOTSURE" and call.campaign.connect_notsure and await self._dead_air(call):
            return
        fields: AttemptChanges = {
            "amd_verdict": verdict,
            "amd_cause": cause,
            "amd_at": utc_now(),
            "answered_at": _epoch(answered_at),
        }
        human = verdict == "HUMAN" or (verdict == "NOTSURE" and call.campaign.connect_notsure)
        if human:
            await self._save(call, CallEvent.HUMAN, **fields)
            await self._connect(call)
        elif call.campaign.voicemail_message:
            await self._save(call, CallEvent.VOICEMAIL_STARTED, **fields)
            await self._leave_message(call)
        else:
            await self.tel.store.update_attempt(call.attempt_id, **fields)
            await self._hangup(call.channel_id)

    async def _dead_air(self, call: LiveCall) -> bool:
        """AMD could not tell: if no audio arrives at all, the line is dead, not a person
        (engine/calls/dead_air.py). Hang it up; the network's failure, not the voter's."""
        try:
            if not await audio_stopped(self.tel.ari, call.channel_id):
                return False
        except AriNotFound:
            return False  # hung up meanwhile: on_gone records it
        log.warning("call %s: answered but no audio arrives: dead air, hanging up", call.channel_id)
        call.dead_air = True
        await self._hangup(call.channel_id)
        return True

    async def on_gone(self, channel_id: str, cause: int, tech_cause: int | None = None) -> None:
        """The voter's channel is destroyed: record the outcome and free the voter.
        `tech_cause`: the SIP status that ended it, when Asterisk says."""
        call = self.by_channel.get(channel_id)
        if call is None:
            return
        if call.state == CallState.CONNECTED:
            outcome = CallOutcome.CONTACT
        elif call.state == CallState.ABANDONING:
            outcome = CallOutcome.ABANDONED
        elif call.state == CallState.LEAVING_VOICEMAIL:
            outcome = CallOutcome.VOICEMAIL_LEFT
        elif call.state == CallState.CONNECTING:
            outcome = CallOutcome.ABANDONED
        elif call.state == CallState.DIALING:
            attempt = await self.tel.store.get_attempt(call.attempt_id)
            if call.dead_air:
                outcome = CallOutcome.FAILED
            elif attempt.amd_verdict:
                outcome = CallOutcome.MACHINE
            elif call.answered:
                outcome = CallOutcome.HUNG_UP_DURING_AMD
            else:
                outcome = unanswered_outcome(
                    channel_id, cause, tech_cause, rang=call.rang, trunk_down=self.tel.trunk_down()
                )
        else:
            outcome = CallOutcome.FAILED
        await self._finish(call, outcome, cause)

    async def on_lost(self, channel_id: str, reason: str) -> None:
        """The call vanished through a failure of ours (the PBX died or froze): a person we
        did not serve is an abandon, a machine a machine, a contact a contact; a call that
        never reached a verdict is not charged (lost_calls.py)."""
        call = self.by_channel.get(channel_id)
        if call is None:
            return
        attempt = await self.tel.store.get_attempt(call.attempt_id)
        outcome = lost_outcome(
            call.state,
            attempt.amd_verdict,
            attempt.bridged_at is not None,
            call.campaign.connect_notsure,
        )
        if outcome is None:
            await self.give_back(call, reason)
        else:
            log.warning("call %s: lost (%s); it counts as %s", channel_id, reason, outcome)
            await self._finish(call, outcome, None)

    async def give_back(self, call: LiveCall, reason: str) -> None:
        """End the attempt with no outcome and put the voter back as before the claim."""
        if self.by_channel.pop(call.channel_id, None) is None:
            return
        await self._save(call, CallEvent.FAILED, ended_at=utc_now())
        status = await give_back_voter(self.tel.store, call.voter.id)
        log.warning(
            "call %s: not charged to voter %d (%s); voter back as %s",
            call.channel_id,
            call.voter.id,
            reason,
            status,
        )

    # --- connecting ----------------------------------------------------------------------
    async def _connect(self, call: LiveCall) -> None:
        deadline = call.verdict_at + CONNECT_WINDOW_S
        first_try = True
        while True:
            session = await self._reserve_volunteer(call.campaign.id)
            if session is not None:
                try:
                    if await self._bridge(call, session, measure=first_try):
                        return
                finally:
                    self.reserved.discard(session.id)
            first_try = False
            remaining = deadline - time.monotonic()
            if remaining <= 0 or call.channel_id not in self.by_channel:
                break
            await self.tel.wait_for_volunteer(call.campaign.id, remaining)
        if call.channel_id in self.by_channel and call.state == CallState.CONNECTING:
            await self._abandon(call)

    def reserve(self, session_id: int) -> bool:
        """Hold a session for one use (a call to bridge, a preview card); False if held."""
        if session_id in self.reserved:
            return False
        self.reserved.add(session_id)
        return True

    async def _reserve_volunteer(self, campaign_id: int) -> Session | None:
        for ready in await self.tel.volunteers.ready_sessions(campaign_id):
            if self.reserve(ready.id):
                session = await self.tel.store.get_session(ready.id)  # the list may be stale
                if session.state == SessionState.READY and session.channel_id:
                    return session
                self.reserved.discard(ready.id)
        return None

    async def _bridge(self, call: LiveCall, session: Session, measure: bool) -> bool:
        """Beep to the volunteer and put the voter in their bridge; False if that failed.
        `measure`: record the verdict → bridge time (the volunteer was ready at the verdict)."""
        assert session.bridge_id and session.channel_id
        if call.campaign.hold_music:
            with contextlib.suppress(AriError):
                await self.tel.ari.stop_bridge_moh(session.bridge_id)
        try:
            await self.tel.ari.add_channel(session.bridge_id, call.channel_id)
        except AriNotFound:
            return False  # the voter or the bridge is gone; on_gone handles the voter
        with contextlib.suppress(AriNotFound):
            await self.tel.player.play("channels", session.channel_id, BEEP)
        if measure:
            self.bridge_latencies.append(time.monotonic() - call.verdict_at)
        call.session_id = session.id
        await self._save(
            call, CallEvent.VOLUNTEER_FOUND, bridged_at=utc_now(), session_id=session.id
        )
        attempt = await self.tel.store.get_attempt(call.attempt_id)
        await self.tel.volunteers.call_connected(session, attempt, call.voter, call.campaign)
        return True

    async def _abandon(self, call: LiveCall) -> None:
        log.info(
            "call %s: no volunteer free within %.0f s; abandoning",
            call.channel_id,
            CONNECT_WINDOW_S,
        )
        await self._save(call, CallEvent.NO_VOLUNTEER)
        await self._play_then_hang_up(call, call.campaign.abandon_message)

    async def _leave_message(self, call: LiveCall) -> None:
        # Wait for the greeting and its beep to end, then speak (dialplan WaitForSilence).
        media = await self.tel.sounds.media_for(call.campaign.voicemail_message)
        with contextlib.suppress(AriNotFound):
            await self.tel.ari.set_variable(
                call.channel_id, "PHONEBANK_MESSAGE", media.removeprefix("sound:")
            )
            await self.tel.ari.continue_in_dialplan(call.channel_id, "phonebank-voicemail", "s", 1)

    async def _play_then_hang_up(self, call: LiveCall, text: str) -> None:
        media = await self.tel.sounds.media_for(text)
        with contextlib.suppress(AriNotFound):
            await self.tel.player.play("channels", call.channel_id, media, wait=True, timeout=30)
        await self._hangup(call.channel_id)

    async def _hangup(self, channel_id: str) -> None:
        with contextlib.suppress(AriNotFound):
            await self.tel.ari.hangup(channel_id)

    async def end_for_session(self, session: Session) -> None:
        for call in list(self.by_channel.values()):
            if call.session_id == session.id:
                await self._hangup(call.channel_id)

    # --- the end -------------------------------------------------------------------------
    async def _finish(self, call: LiveCall, outcome: CallOutcome, cause: int | None) -> None:
        if self.by_channel.pop(call.channel_id, None) is None:
            return
        event = CallEvent.HANGUP if call.state != CallState.CLAIMED else CallEvent.FAILED
        await self._save(call, event, ended_at=utc_now(), hangup_cause=cause, outcome=outcome)
        status = await settle_voter(self.tel.store, call.campaign, call.voter.id, outcome)
        self.tel.no_answers.record(
            outcome, call.attempt_id, call.voter.id, call.campaign, call.channel_id
        )
        log.info(
            "call %s: ended %s (cause %s); voter %d now %s",
            call.channel_id,
            outcome,
            cause,
            call.voter.id,
            status,
        )
        self.tel.publish_call(call.campaign.id, call.attempt_id, outcome)
        if call.session_id is not None:
            session = await self.tel.store.get_session(call.session_id)
            await self.tel.volunteers.call_ended(session)
            if call.campaign.hold_music and session.bridge_id:
                with contextlib.suppress(AriError):
                    await self.tel.ari.start_bridge_moh(session.bridge_id)
        self.tel.wake(call.campaign.id)


def _epoch(text: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        return None
