"""Preview (click-to-call) dialing: the volunteer sees the voter's card, presses Call, hears
it ring, and talks as soon as the voter answers.

No answering-machine detection and no 2-second rule: a person places the call and is on the
line when it is answered, so nobody is ever abandoned (abandon accounting counts only calls
with an AMD verdict) and an answering machine is simply put through. The voter is claimed
like any automatic call (calling hours, attempts, do-not-call), IN_FLIGHT while on the card,
so no other call can reach them meanwhile. Unanswered calls follow the same outcome table
(engine/calls/causes.py), no-answer rule (no_answers.py: never rang, or ended while dialing
is held, is our failure) and retry rules (engine/calls/retry.py) as automatic ones.

The dialer calls `offer()` each tick for campaigns (or line types) dialed by preview.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.calls.calling_hours import within_hours, zones_open_now
from engine.calls.no_answers import unanswered_outcome
from engine.calls.states import CallEvent, next_call_state
from engine.calls.voter_release import settle_voter
from engine.clock import utc_now
from engine.errors import AriError, AriNotFound, NotAllowed
from engine.models import (
    CallOutcome,
    CallState,
    Campaign,
    Session,
    SessionState,
    Voter,
    VoterStatus,
)
from engine.sessions.states import SessionEvent
from engine.voters.line_types import preview_line_types

if TYPE_CHECKING:
    from engine.telephony.runtime import Telephony

log = logging.getLogger(__name__)

RINGBACK = "tone:ring;tonezone=us"
"""What the volunteer hears while the voter's phone rings."""
RINGBACK_STOP_S = 1.0
"""How long an answer waits for the ring tone to end before the voter is put through anyway
(it takes a few milliseconds)."""

OUTCOME_WORDS: dict[CallOutcome, str] = {
    CallOutcome.NO_ANSWER: "No answer",
    CallOutcome.BUSY: "Busy",
    CallOutcome.UNALLOCATED: "The number is not in service",
    CallOutcome.REJECTED: "The call was declined",
    CallOutcome.CONGESTION: "The phone network is busy: this voter will be tried again later",
    CallOutcome.FAILED: "The call could not be placed: this voter will be tried again later",
}
"""What the volunteer's page says when a preview call is not answered."""
LOST_WORDS = "The phone system went away before the voter answered: they go back on the list"


@dataclass
class PreviewCall:
    """A voter held for one volunteer: on the card, then ringing, then connected."""

    session_id: int
    attempt_id: int
    campaign: Campaign
    voter: Voter
    state: CallState = CallState.CLAIMED
    channel_id: str | None = None
    ringback_id: str | None = None
    answered: bool = False
    rang: bool = False
    """The voter's phone rang (Ringing or Up): the carrier answered the INVITE."""
    released: bool = False
    """The volunteer let go (skip, cancel, break, log-out): an answer is hung up."""


class PreviewCalls:
    def __init__(self, telephony: Telephony) -> None:
        self.tel = telephony
        self.by_session: dict[int, PreviewCall] = {}
        self.by_channel: dict[str, PreviewCall] = {}
        self._lock = asyncio.Lock()
        """Offers, Call, answers and releases of preview calls happen one at a time."""

    # --- offering cards ------------------------------------------------------------------
    async def offer(
        self,
        campaign: Campaign,
        ready_sessions: Iterable[Session],
        zones: Iterable[str] | None = None,
    ) -> int:
        """Show each ready session a voter of the campaign's preview line types; returns how
        many cards were offered. ``zones``: the zones now within calling hours (computed
        here when not given). Sessions the automatic dialer is connecting are left alone."""
        line_types = preview_line_types(campaign)
        if not line_types:
            return 0
        now = utc_now()
        within = (
            set(zones)
            if zones is not None
            else zones_open_now(campaign.calling_hours_start, campaign.calling_hours_end, now)
        )
        offered = 0
        async with self._lock:
            for ready in ready_sessions:
                if ready.id in self.by_session or not self.tel.calls.reserve(ready.id):
                    continue  # held by the dialer; held here while offered (the store yields)
                try:
                    session = await self.tel.store.get_session(ready.id)
                    if session.state != SessionState.READY:
                        continue
                    claimed = await self.tel.store.claim_voters(
                        campaign.id, 1, now, within, campaign.max_attempts, line_types
                    )
                    if not claimed:
                        break  # nobody left to preview now
                    [(voter, attempt)] = claimed
                    attempt = await self.tel.store.update_attempt(attempt.id, session_id=ready.id)
                    self.by_session[ready.id] = PreviewCall(ready.id, attempt.id, campaign, voter)
                    await self.tel.volunteers.preview_offered(session, attempt, voter, campaign)
                finally:
                    self.tel.calls.reserved.discard(ready.id)
                log.info(
                    "session %d: previewing voter %d (%s)", session.id, voter.id, voter.line_type
                )
                offered += 1
        return offered

    # --- the volunteer's buttons ---------------------------------------------------------
    async def place(self, session: Session) -> str | None:
        """Call the voter on the session's card; see PreviewControl.place_preview_call."""
        async with self._lock:
            call = self.by_session.get(session.id)
            if call is None or call.attempt_id != session.attempt_id:
                raise NotAllowed("this voter's card is out of date: wait for the next one")
            if call.channel_id is not None:
                raise NotAllowed("the call is already placed")
            if not self.tel.gate.open:
                raise NotAllowed(f"calls cannot be placed right now: {self.tel.gate.why()}")
            problem = await self._not_callable(call)
            if problem is not None:
                message, status = problem
                await self._give_back(call, status)
                return message
            call.channel_id = f"preview-{call.attempt_id}-{uuid.uuid4().hex[:8]}"
            self.by_channel[call.channel_id] = call
            await self._save(
                call, CallEvent.ORIGINATED, channel_id=call.channel_id, originated_at=utc_now()
            )
            session = await self.tel.volunteers.transition(session, SessionEvent.CALL_PLACED)
            await self._start_ringback(call, session)
            await self._originate(call)
        return None

    async def release(self, session: Session) -> bool:
        """Give back what the session holds; see PreviewControl.release_preview."""
        async with self._lock:
            call = self.by_session.get(session.id)
            if call is None:
                return True
            if call.state == CallState.CONNECTED:
                return False
            call.released = True
            if call.channel_id is None:
                await self._give_back(call)
                return True
            with contextlib.suppress(AriNotFound):
                await self.tel.ari.hangup(call.channel_id)
            # We hung up a ringing phone: nobody answered in the time we gave it.
            await self._finish(call, CallOutcome.NO_ANSWER, None, tell_volunteer=False)
            return True

    async def end_for_session(self, session: Session) -> None:
        """The volunteer ends the call (or their phone dropped): hang up the voter."""
        call = self.by_session.get(session.id)
        if call is not None and call.channel_id and call.state == CallState.CONNECTED:
            with contextlib.suppress(AriNotFound):
                await self.tel.ari.hangup(call.channel_id)

    # --- ARI events ----------------------------------------------------------------------
    async def on_answer(self, channel: dict[str, Any]) -> None:
        """StasisStart of a preview call: the voter answered. Straight into the bridge."""
        channel_id = channel["id"]
        async with self._lock:
            call = self.by_channel.get(channel_id)
            if call is None or call.released or call.state != CallState.DIALING:
                log.warning(
                    "preview call %s answered but nobody waits for it; hanging up", channel_id
                )
                with contextlib.suppress(AriNotFound):
                    await self.tel.ari.hangup(channel_id)
                return
            call.answered = True
            await self._stop_ringback(call, until_ended=True)
            session = await self.tel.store.get_session(call.session_id)
            if not session.bridge_id or not await self._add_to_bridge(session, channel_id):
                with contextlib.suppress(AriNotFound):
                    await self.tel.ari.hangup(channel_id)
                return
            # A person placed the call and is listening: no AMD, no 2-second rule.
            await self._save(call, CallEvent.HUMAN, answered_at=utc_now())
            await self._save(call, CallEvent.VOLUNTEER_FOUND, bridged_at=utc_now())
            attempt = await self.tel.store.get_attempt(call.attempt_id)
            await self.tel.volunteers.call_connected(session, attempt, call.voter, call.campaign)

    def on_state_change(self, channel: dict[str, Any]) -> None:
        """ChannelStateChange of a preview call: note that the voter's phone rang."""
        call = self.by_channel.get(channel["id"])
        if call is not None and channel.get("state") in ("Ringing", "Up"):
            call.rang = True

    async def on_gone(self, channel_id: str, cause: int, tech_cause: int | None = None) -> None:
        """The voter's channel is destroyed: record the outcome and free the voter. A call
        that never rang, or ended while dialing is held, is our failure, not "no answer"
        (no_answers.unanswered_outcome, as for automatic calls)."""
        async with self._lock:
            call = self.by_channel.get(channel_id)
            if call is None:
                return
            if call.state == CallState.CONNECTED:
                outcome = CallOutcome.CONTACT
            elif call.answered:
                outcome = CallOutcome.FAILED  # answered, but we could not put it through
            else:
                outcome = unanswered_outcome(
                    channel_id, cause, tech_cause, rang=call.rang, trunk_down=self.tel.trunk_down()
                )
            await self._finish(call, outcome, cause, tell_volunteer=True)

    async def on_lost(self, channel_id: str) -> None:
        """The call vanished through our failure (the PBX went away): a conversation is a
        contact; anything short of one is not charged (the voter goes back on the list) and
        the volunteer is told why."""
        async with self._lock:
            call = self.by_channel.get(channel_id)
            if call is None:
                return
            if call.state == CallState.CONNECTED:
                await self._finish(call, CallOutcome.CONTACT, None, tell_volunteer=True)
                return
            with contextlib.suppress(AriError):
                await self._stop_ringback(call)
            await self._give_back(call)
            session = await self.tel.store.get_session(call.session_id)
            await self.tel.volunteers.preview_not_reached(
                session, call.attempt_id, "not placed", LOST_WORDS
            )

    # --- inside --------------------------------------------------------------------------
    async def _not_callable(self, call: PreviewCall) -> tuple[str, VoterStatus | None] | None:
        """Why the voter on the card may not be called now (and the status to give them), or
        None. The card may have been shown for a while: the do-not-call list and the clock
        have moved on since the claim."""
        campaign, voter = call.campaign, call.voter
        if await self.tel.store.is_dnc(voter.phone, campaign.id):
            return "this number is on the do-not-call list now, so it won't be called", (
                VoterStatus.DNC
            )
        start, end = campaign.calling_hours_start, campaign.calling_hours_end
        if not within_hours(voter.timezone, start, end, utc_now()):
            return "it's outside calling hours for this voter now: they go back on the list", None
        return None

    async def _give_back(self, call: PreviewCall, status: VoterStatus | None = None) -> None:
        """The card was never called: end the attempt without an outcome and put the voter
        back as they were (attempt refunded; or with ``status``), at the back of the line so
        the next card shows someone else."""
        self._forget(call)
        await self._save(call, CallEvent.FAILED, ended_at=utc_now())
        voter = call.voter
        if status is None:  # as before the claim, which counted one attempt
            status = VoterStatus.PENDING if voter.attempts <= 1 else VoterStatus.RETRY
        await self.tel.store.release_voter(voter.id, status, utc_now(), refund_attempt=True)
        log.info("session %d: voter %d given back (%s)", call.session_id, voter.id, status)

    async def _originate(self, call: PreviewCall) -> None:
        campaign, voter = call.campaign, call.voter
        assert call.channel_id is not None
        try:
            await self.tel.ari.originate(
                f"PJSIP/{voter.phone}@{self.tel.trunk}",
                channel_id=call.channel_id,
                app=self.tel.ari.app,
                app_args="preview",
                timeout=campaign.ring_seconds,
                caller_id=campaign.caller_id or None,
            )
        except AriError as exc:
            log.warning("preview call %s to %s failed: %s", call.channel_id, voter.phone, exc)
            await self._finish(call, CallOutcome.FAILED, None, tell_volunteer=True)
            return
        if call.released:  # let go while the originate was on its way
            with contextlib.suppress(AriNotFound):
                await self.tel.ari.hangup(call.channel_id)

    async def _finish(
        self, call: PreviewCall, outcome: CallOutcome, cause: int | None, *, tell_volunteer: bool
    ) -> None:
        """Record how the call ended, release the voter by the retry rules and move the
        volunteer on: wrap-up after a conversation, the next card after no answer."""
        self._forget(call)
        await self._stop_ringback(call)
        await self._save(
            call, CallEvent.HANGUP, ended_at=utc_now(), hangup_cause=cause, outcome=outcome
        )
        status = await settle_voter(self.tel.store, call.campaign, call.voter.id, outcome)
        ending = (call.attempt_id, call.voter.id, call.campaign, call.channel_id or "")
        self.tel.no_answers.record(outcome, *ending)
        log.info(
            "preview call %s: ended %s (cause %s); voter %d now %s",
            call.channel_id,
            outcome,
            cause,
            call.voter.id,
            status,
        )
        self.tel.publish_call(call.campaign.id, call.attempt_id, outcome)
        session = await self.tel.store.get_session(call.session_id)
        if call.campaign.hold_music and session.bridge_id:
            with contextlib.suppress(AriError):
                await self.tel.ari.start_bridge_moh(session.bridge_id)
        if outcome == CallOutcome.CONTACT:
            await self.tel.volunteers.call_ended(session)
        elif tell_volunteer:
            words = OUTCOME_WORDS.get(outcome, OUTCOME_WORDS[CallOutcome.FAILED])
            await self.tel.volunteers.preview_not_reached(
                session, call.attempt_id, str(outcome), words
            )

    async def _save(self, call: PreviewCall, event: CallEvent, **fields: Any) -> None:
        state = next_call_state(call.state, event)
        log.info(
            "preview call %s: %s -[%s]-> %s",
            call.channel_id or call.attempt_id,
            call.state,
            event,
            state,
        )
        call.state = state
        await self.tel.store.update_attempt(call.attempt_id, state=state, **fields)

    async def _start_ringback(self, call: PreviewCall, session: Session) -> None:
        if not session.channel_id:
            return
        if call.campaign.hold_music and session.bridge_id:
            with contextlib.suppress(AriError):
                await self.tel.ari.stop_bridge_moh(session.bridge_id)
        try:
            call.ringback_id = await self.tel.player.play("channels", session.channel_id, RINGBACK)
        except AriError as exc:  # the ring tone is a nicety: the call still goes out
            log.warning("session %d: no ring tone: %s", session.id, exc)

    async def _stop_ringback(self, call: PreviewCall, *, until_ended: bool = False) -> None:
        """End the ring tone; ``until_ended``: wait until it has really ended (only where no
        ARI event handler waits on us): until then the volunteer's channel is out of the
        bridge's mix, and a voter put through meanwhile hears nothing."""
        if call.ringback_id is not None:
            ringback, call.ringback_id = call.ringback_id, None
            wait = RINGBACK_STOP_S if until_ended else 0.0
            started = time.monotonic()
            try:
                ended = await self.tel.player.stop(ringback, wait=wait)
            except AriError as exc:  # the call goes on; the volunteer may hear ringing
                log.warning("session %d: the ring tone would not stop: %s", call.session_id, exc)
                return
            if not ended:
                log.warning(
                    "session %d: the ring tone had not ended %.1f s after it was stopped",
                    call.session_id,
                    RINGBACK_STOP_S,
                )
            elif until_ended:
                log.debug(
                    "session %d: ring tone ended %.1f ms after the stop",
                    call.session_id,
                    (time.monotonic() - started) * 1e3,
                )

    async def _add_to_bridge(self, session: Session, channel_id: str) -> bool:
        assert session.bridge_id is not None
        try:
            await self.tel.ari.add_channel(session.bridge_id, channel_id)
        except AriNotFound:
            return False
        return True

    def _forget(self, call: PreviewCall) -> None:
        self.by_session.pop(call.session_id, None)
        if call.channel_id is not None:
            self.by_channel.pop(call.channel_id, None)
