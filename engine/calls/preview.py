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
import uuid
from collections.abc import Iterable
from functools import partial

from engine.ari.client import AriClient
from engine.ari.event_types import Channel
from engine.audio.media import Player
from engine.calls.ending import CallSteps
from engine.calls.gate import TRUNK_DOWN, DialingGate
from engine.calls.no_answers import RecentNoAnswers
from engine.calls.owner import CallOwner, Tasks
from engine.calls.ports import NO_COUNTS, CallCounts, PublishCall, SessionEvents
from engine.calls.preview_call import LOST_WORDS, OUTCOME_WORDS, PreviewCall, Ringback
from engine.calls.stasis import StasisArg
from engine.calls.states import CallEvent, CallPhase, gone_event
from engine.clock import utc_now
from engine.errors import AriError, AriNotFound, NotAllowed
from engine.models import (
    CallOutcome,
    Campaign,
    Session,
    SessionState,
    VoterStatus,
)
from engine.sessions.placement import node_channel_id
from engine.sessions.states import SessionEvent
from engine.store.base import Store
from engine.voters.calling_hours import within_hours, zones_open_now
from engine.voters.line_types import preview_line_types

__all__ = ["LOST_WORDS", "OUTCOME_WORDS", "PreviewCall", "PreviewCalls"]

log = logging.getLogger(__name__)


class PreviewCalls:
    def __init__(
        self,
        ari: AriClient,
        store: Store,
        player: Player,
        gate: DialingGate,
        no_answers: RecentNoAnswers,
        sessions: SessionEvents,
        publish_call: PublishCall,
        *,
        trunk: str,
        connecting: set[int],
        counts: CallCounts = NO_COUNTS,
        node: str | None = None,
    ) -> None:
        self.node = node
        """The node the preview calls live on (their channel ids carry its name)."""
        self.ari = ari
        self.store = store
        self.player = player
        self.gate = gate
        self.sessions = sessions
        self.trunk = trunk
        self.connecting = connecting
        """Sessions held for one use (shared with the automatic calls' connecting): a session
        the dialer is connecting is left alone, and one being offered a card is held here."""
        self.ringback = Ringback(ari, player)
        self.tasks = Tasks()
        self.counts = counts
        self.steps = CallSteps(store, no_answers, publish_call, counts)
        self.by_session: dict[int, PreviewCall] = {}
        self.by_channel: dict[str, PreviewCall] = {}
        self._offering = asyncio.Lock()
        """One round of offers at a time (no ARI request is made under it)."""

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
        async with self._offering:
            for ready in ready_sessions:
                if ready.id in self.by_session or ready.id in self.connecting:
                    continue  # held by the dialer's connecting, or already offered
                self.connecting.add(ready.id)  # held here while offered: the store yields
                try:
                    session = await self.store.get_session(ready.id)
                    if session.state != SessionState.READY:
                        continue
                    claimed = await self.store.claim_voters(
                        campaign.id, 1, now, within, campaign.max_attempts, line_types
                    )
                    if not claimed:
                        break  # nobody left to preview now
                    [(voter, attempt)] = claimed
                    attempt = await self.store.update_attempt(attempt.id, session_id=session.id)
                    owner = CallOwner(f"preview {attempt.id}", self.tasks)
                    call = PreviewCall(session.id, attempt.id, campaign, voter, owner=owner)
                    self.by_session[session.id] = call
                    await self.sessions.preview_offered(session, attempt, voter, campaign)
                finally:
                    self.connecting.discard(ready.id)
                log.info(
                    "session %d: previewing voter %d (%s)", session.id, voter.id, voter.line_type
                )
                offered += 1
        return offered

    # --- the volunteer's buttons ---------------------------------------------------------
    async def place(self, session: Session) -> str | None:
        """Call the voter on the session's card; see PreviewControl.place_preview_call."""
        call = self._card(session)
        return await call.owner.run(partial(self._place, call, session))

    async def _place(self, call: PreviewCall, session: Session) -> str | None:
        if self._card(session) is not call:
            raise NotAllowed("this voter's card is out of date: wait for the next one")
        if call.channel_id is not None:
            raise NotAllowed("the call is already placed")
        if not self.gate.open:
            raise NotAllowed(f"calls cannot be placed right now: {self.gate.why()}")
        problem = await self._not_callable(call)
        if problem is not None:
            message, status = problem
            await self._give_back(call, status)
            return message
        call.channel_id = node_channel_id(
            self.node, f"preview-{call.attempt_id}-{uuid.uuid4().hex[:8]}"
        )
        self.by_channel[call.channel_id] = call
        await self.steps.step(
            call, CallEvent.ORIGINATED, channel_id=call.channel_id, originated_at=utc_now()
        )
        session = await self.sessions.transition(session, SessionEvent.CALL_PLACED)
        await self.ringback.start(call, session)
        await self._originate(call)
        return None

    def _card(self, session: Session) -> PreviewCall:
        call = self.by_session.get(session.id)
        if call is None or call.attempt_id != session.attempt_id:
            raise NotAllowed("this voter's card is out of date: wait for the next one")
        return call

    async def release(self, session: Session) -> bool:
        """Give back what the session holds; see PreviewControl.release_preview."""
        call = self.by_session.get(session.id)
        if call is None:
            return True
        return await call.owner.run(partial(self._release, call))

    async def _release(self, call: PreviewCall) -> bool:
        if self.by_session.get(call.session_id) is not call:
            return True
        if call.phase == CallPhase.CONNECTED:
            return False
        call.released = True
        if call.channel_id is None:
            await self._give_back(call)
            return True
        with contextlib.suppress(AriNotFound):
            await self.ari.hangup(call.channel_id)
        # We hung up a ringing phone: nobody answered in the time we gave it.
        await self._finish(call, CallEvent.RELEASED, tell_volunteer=False)
        return True

    async def end_for_session(self, session: Session) -> None:
        """The volunteer ends the call (or their phone dropped): hang up the voter."""
        call = self.by_session.get(session.id)
        if call is not None:
            await call.owner.run(partial(self._volunteer_gone, call))

    async def _volunteer_gone(self, call: PreviewCall) -> None:
        if call.channel_id and call.phase == CallPhase.CONNECTED:
            with contextlib.suppress(AriNotFound):
                await self.ari.hangup(call.channel_id)

    async def close(self) -> None:
        """Stop every call's owner and helpers (the engine is stopping)."""
        await self.tasks.close()

    # --- ARI events: each is handed to the call's owner ----------------------------------
    def on_answer(self, channel: Channel) -> None:
        """StasisStart of a preview call: the voter answered. Straight into the bridge."""
        call = self.by_channel.get(channel.id)
        if call is None:
            self.tasks.start(self._unwanted(channel.id), f"hang up {channel.id}")
        else:
            call.owner.post(partial(self._answered, call, channel.id))

    async def _unwanted(self, channel_id: str) -> None:
        log.warning("preview call %s answered but nobody waits for it; hanging up", channel_id)
        with contextlib.suppress(AriNotFound):
            await self.ari.hangup(channel_id)

    async def _answered(self, call: PreviewCall, channel_id: str) -> None:
        if (
            self.by_channel.get(channel_id) is not call
            or call.released
            or call.phase != CallPhase.RINGING
        ):
            await self._unwanted(channel_id)
            return
        await self.ringback.stop(call, until_ended=True)
        session = await self.store.get_session(call.session_id)
        if not session.bridge_id or not await self._add_to_bridge(session, channel_id):
            await self.steps.step(call, CallEvent.NOT_PUT_THROUGH)
            with contextlib.suppress(AriNotFound):
                await self.ari.hangup(channel_id)
            return
        # A person placed the call and is listening: no AMD, no 2-second rule.
        await self.steps.step(call, CallEvent.HUMAN, answered_at=utc_now())
        await self.steps.step(call, CallEvent.VOLUNTEER_FOUND, bridged_at=utc_now())
        attempt = await self.store.get_attempt(call.attempt_id)
        await self.sessions.call_connected(session, attempt, call.voter, call.campaign)

    def on_state_change(self, channel: Channel) -> None:
        """ChannelStateChange of a preview call: note that the voter's phone rang."""
        call = self.by_channel.get(channel.id)
        if call is not None and channel.state in ("Ringing", "Up"):
            call.owner.post(partial(self._rang, call))

    async def _rang(self, call: PreviewCall) -> None:
        call.rang = True

    async def on_gone(self, channel_id: str, cause: int, tech_cause: int | None = None) -> None:
        """The voter's channel is destroyed: record the outcome and free the voter. A call
        that never rang, or ended while dialing is held, is our failure, not "no answer"
        (states.gone_event, as for automatic calls)."""
        call = self.by_channel.get(channel_id)
        if call is not None:
            await call.owner.run(partial(self._gone, call, channel_id, cause, tech_cause))

    async def _gone(
        self, call: PreviewCall, channel_id: str, cause: int, tech_cause: int | None
    ) -> None:
        if self.by_channel.get(channel_id) is not call:
            return
        event = gone_event(cause, rang=call.rang, trunk_down=self.gate.held_for(TRUNK_DOWN))
        if call.phase == CallPhase.RINGING and event == CallEvent.GONE_FAILED:
            log.warning(
                "call %s: gone unanswered (cause %s, SIP %s): our failure, not the voter's",
                channel_id,
                cause,
                tech_cause,
            )
        await self._finish(call, event, cause=cause, tell_volunteer=True)

    async def on_lost(self, channel_id: str) -> None:
        """The call vanished through our failure (the PBX went away): a conversation is a
        contact; anything short of one is not charged (the voter goes back on the list) and
        the volunteer is told why."""
        call = self.by_channel.get(channel_id)
        if call is not None:
            await call.owner.run(partial(self._lost, call, channel_id))

    async def _lost(self, call: PreviewCall, channel_id: str) -> None:
        if self.by_channel.get(channel_id) is not call:
            return
        await self._finish(call, CallEvent.LOST, tell_volunteer=True)

    # --- inside --------------------------------------------------------------------------
    async def _not_callable(self, call: PreviewCall) -> tuple[str, VoterStatus | None] | None:
        """Why the voter on the card may not be called now (and the status to give them), or
        None. The card may have been shown for a while: the do-not-call list and the clock
        have moved on since the claim."""
        campaign, voter = call.campaign, call.voter
        if await self.store.is_dnc(voter.phone, campaign.id):
            return "this number is on the do-not-call list now, so it won't be called", (
                VoterStatus.DNC
            )
        start, end = campaign.calling_hours_start, campaign.calling_hours_end
        if not within_hours(voter.timezone, start, end, utc_now()):
            return "it's outside calling hours for this voter now: they go back on the list", None
        return None

    async def _give_back(self, call: PreviewCall, status: VoterStatus | None = None) -> None:
        """The card was never called: end the attempt without an outcome and put the voter
        back (see _return_voter)."""
        self._forget(call)
        await self.steps.step(call, CallEvent.GIVEN_BACK)
        await self._return_voter(call, status)

    async def _return_voter(self, call: PreviewCall, status: VoterStatus | None = None) -> None:
        """Put the voter of an uncharged attempt back as they were (attempt refunded; or
        with ``status``), at the back of the line so the next card shows someone else."""
        voter = call.voter
        if status is None:  # as before the claim, which counted one attempt
            status = VoterStatus.PENDING if voter.attempts <= 1 else VoterStatus.RETRY
        await self.store.release_voter(voter.id, status, utc_now(), refund_attempt=True)
        log.info("session %d: voter %d given back (%s)", call.session_id, voter.id, status)

    async def _originate(self, call: PreviewCall) -> None:
        campaign, voter = call.campaign, call.voter
        assert call.channel_id is not None
        try:
            await self.ari.originate(
                f"PJSIP/{voter.phone}@{self.trunk}",
                channel_id=call.channel_id,
                app=self.ari.app,
                app_args=StasisArg.PREVIEW,
                timeout=campaign.ring_seconds,
                caller_id=campaign.caller_id or None,
            )
        except AriError as exc:
            self.counts.originated(ok=False)
            log.warning("preview call %s to %s failed: %s", call.channel_id, voter.phone, exc)
            await self._finish(call, CallEvent.FAILED, tell_volunteer=True)
        else:
            self.counts.originated(ok=True)

    async def _finish(
        self, call: PreviewCall, event: CallEvent, *, cause: int | None = None, tell_volunteer: bool
    ) -> None:
        """Record how the call ended (ending.py), and move the volunteer on: wrap-up after
        a conversation, the next card after no answer (or a call lost before an answer,
        which is not charged)."""
        self._forget(call)
        await self.ringback.stop(call)
        moved = await self.steps.step(call, event, cause=cause)
        if moved.outcome is None:
            await self._return_voter(call)
            session = await self.store.get_session(call.session_id)
            await self.sessions.preview_not_reached(
                session, call.attempt_id, "not placed", LOST_WORDS
            )
            return
        session = await self.store.get_session(call.session_id)
        if call.campaign.hold_music and session.bridge_id:
            with contextlib.suppress(AriError):
                await self.ari.start_bridge_moh(session.bridge_id)
        if moved.outcome == CallOutcome.CONTACT:
            await self.sessions.call_ended(session)
        elif tell_volunteer:
            words = OUTCOME_WORDS.get(moved.outcome, OUTCOME_WORDS[CallOutcome.FAILED])
            await self.sessions.preview_not_reached(
                session, call.attempt_id, str(moved.outcome), words
            )

    async def _add_to_bridge(self, session: Session, channel_id: str) -> bool:
        assert session.bridge_id is not None
        try:
            await self.ari.add_channel(session.bridge_id, channel_id)
        except AriNotFound:
            return False
        return True

    def _forget(self, call: PreviewCall) -> None:
        self.by_session.pop(call.session_id, None)
        if call.channel_id is not None:
            self.by_channel.pop(call.channel_id, None)
