"""Outbound calls: originate through the trunk into AMD (or the engine's streaming detector,
streaming.py), then connect, abandon or leave a
message (answers.py), and record how each attempt ended.

Every originated channel is tracked from the start (the Stasis app is subscribed to the trunk
endpoint), because a call that is not answered, or hangs up during AMD, never enters Stasis.
Each call has an owner (owner.py) that takes its events one at a time, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from functools import partial

from engine.ari.client import AriClient
from engine.ari.event_types import Channel
from engine.audio.media import Player
from engine.audio.sounds import SoundLibrary
from engine.calls.answers import AMD_CONTEXT, CONNECT_WINDOW_S, Answers
from engine.calls.causes import outcome_for_cause
from engine.calls.ending import CallSteps
from engine.calls.gate import TRUNK_DOWN, DialingGate
from engine.calls.listening import Listening
from engine.calls.live import LiveCall
from engine.calls.lost_calls import give_back_voter
from engine.calls.no_answers import RecentNoAnswers
from engine.calls.owner import CallOwner, Tasks
from engine.calls.ports import NO_COUNTS, CallCounts, PublishCall, SessionEvents
from engine.calls.stasis import AmdVerdict, is_person
from engine.calls.states import CallEvent, CallPhase, Moved, gone_event
from engine.calls.streaming import StreamingAmd
from engine.calls.wakeups import Wakeups
from engine.clock import utc_now
from engine.config import AmdEngine
from engine.errors import AriError, AriUnavailable
from engine.models import Attempt, CallOutcome, CallState, Campaign, Session, Voter
from engine.sessions.placement import node_channel_id
from engine.store.base import Store

__all__ = ["CONNECT_WINDOW_S", "LiveCall", "OutboundCalls"]

log = logging.getLogger(__name__)

CONFIRM_GRACE_S = 1.0
"""After an originate that got no answer, the PBX is asked twice, this far apart, whether the
call exists before the voter is given back (a frozen Asterisk may still act on it late)."""


class OutboundCalls:
    def __init__(
        self,
        ari: AriClient,
        store: Store,
        player: Player,
        sounds: SoundLibrary,
        gate: DialingGate,
        no_answers: RecentNoAnswers,
        wakeups: Wakeups,
        sessions: SessionEvents,
        publish_call: PublishCall,
        *,
        trunk: str,
        counts: CallCounts = NO_COUNTS,
        node: str | None = None,
        listening: Listening | None = None,
        amd_engine: AmdEngine = "app_amd",
    ) -> None:
        self.ari = ari
        self.node = node
        """The dialer node these calls live on (None: the only one): they are connected only
        to its sessions (engine/sessions/placement.py)."""
        self.store = store
        self.gate = gate
        self.wakeups = wakeups
        self.sessions = sessions
        self.trunk = trunk
        self.counts = counts
        self.tasks = Tasks()
        self.steps = CallSteps(store, no_answers, publish_call, counts)
        self.answers = Answers(
            ari, store, player, sounds, sessions, wakeups, self.steps, self.tasks, counts, node
        )
        self.streaming = StreamingAmd(
            listening, self.answers, self.tasks, default_engine=amd_engine
        )
        self.by_channel: dict[str, LiveCall] = {}

    @property
    def reserved(self) -> set[int]:
        """Sessions being connected to a call right now (not offered to another)."""
        return self.answers.reserved

    @property
    def bridge_latencies(self) -> list[float]:
        return self.answers.bridge_latencies

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

    def channel_name(self, attempt_id: int) -> str:
        """The channel id an attempt will be dialed on (given to the claim, which records it)."""
        return node_channel_id(self.node, f"call-{attempt_id}-{uuid.uuid4().hex[:8]}")

    def register(self, campaign: Campaign, voter: Voter, attempt: Attempt) -> LiveCall:
        """Track a claimed attempt at once, so pacing counts it before it is originated."""
        channel_id = attempt.channel_id or self.channel_name(attempt.id)
        call = LiveCall(attempt.id, campaign, voter, channel_id, owner=self._owner(channel_id))
        return self._track(call)

    def adopt(
        self,
        attempt: Attempt,
        campaign: Campaign,
        voter: Voter,
        *,
        session_id: int | None,
        answered: bool,
    ) -> LiveCall:
        """Carry on with a call that outlived an earlier run of the engine (recovery.py): one
        dialing (ringing, in AMD, or a machine being hung up) or one connected to `session_id`."""
        assert attempt.channel_id is not None
        if attempt.state == CallState.CONNECTED:
            phase = CallPhase.CONNECTED
        elif attempt.amd_verdict and attempt.amd_verdict != AmdVerdict.HANGUP:
            phase = CallPhase.HANGING_UP
        else:
            phase = CallPhase.ANSWERED if answered else CallPhase.RINGING
        owner = self._owner(attempt.channel_id)
        call = LiveCall(attempt.id, campaign, voter, attempt.channel_id, phase, owner=owner)
        call.session_id, call.answered, call.rang = session_id, answered, answered
        if answered:
            call.answered_at = call.placed_at
        return self._track(call)

    def _owner(self, channel_id: str) -> CallOwner:
        return CallOwner(channel_id, self.tasks)

    def _track(self, call: LiveCall) -> LiveCall:
        self.by_channel[call.channel_id] = call
        return call

    def start_dialing(self, call: LiveCall) -> None:
        """Dial the call in the background (the dialer loop does not wait for the PBX)."""
        self.tasks.start(self.dial(call), f"dial {call.channel_id}")

    async def dial(self, call: LiveCall) -> None:
        """Originate the call. Dialing held meanwhile, or the PBX not answering: the voter is
        given back untouched (see _confirm); the PBX refusing the call: FAILED."""
        await call.owner.run(partial(self._dial, call))

    async def _dial(self, call: LiveCall) -> None:
        campaign, voter, channel_id = call.campaign, call.voter, call.channel_id
        if not self.gate.open:
            await self._give_back(call, f"not placed: {self.gate.why()}")
            return
        context = self.streaming.context(campaign)
        amd_args = campaign.amd_args if context == AMD_CONTEXT else ""
        variables = {"PHONEBANK_AMD": amd_args} if amd_args else None
        await self.steps.step(
            call, CallEvent.ORIGINATED, channel_id=channel_id, originated_at=utc_now()
        )
        try:
            await self.ari.originate(
                f"PJSIP/{voter.phone}@{self.trunk}",
                channel_id=channel_id,
                context=context,
                extension="s",
                priority=1,
                timeout=campaign.ring_seconds,
                caller_id=campaign.caller_id or None,
                variables=variables,
            )
        except AriUnavailable as exc:
            self.counts.originated(ok=False)
            log.warning("call %s: the PBX did not answer the originate: %s", channel_id, exc)
            call.unconfirmed = True
            self.tasks.start(self._confirm(call), f"confirm {channel_id}")
        except AriError as exc:
            self.counts.originated(ok=False)
            log.warning("call %s: originate to %s failed: %s", channel_id, voter.phone, exc)
            await self._end(call, CallEvent.FAILED)
        else:
            self.counts.originated(ok=True)

    async def _confirm(self, call: LiveCall) -> None:
        """Beside the owner: once the PBX answers again, keep the call if its channel exists;
        else it was never placed and the voter is given back (reconcile after a reconnect
        may get there first)."""
        checks = 0
        while call.channel_id in self.by_channel:
            await self.ari.wait_connected()
            try:
                channels = {c["id"] for c in await self.ari.list_channels()}
            except AriError:
                await asyncio.sleep(CONFIRM_GRACE_S)
                continue
            if call.channel_id in channels:
                call.owner.post(partial(self._confirmed, call))
                return
            checks += 1
            if checks >= 2:
                await self.on_lost(call.channel_id, "the PBX never placed it")
                return
            await asyncio.sleep(CONFIRM_GRACE_S)

    async def _confirmed(self, call: LiveCall) -> None:
        call.unconfirmed = False
        log.info("call %s: placed after all", call.channel_id)

    # --- events: each is handed to the call's owner -----------------------------------------
    def on_state_change(self, channel: Channel) -> None:
        call = self.by_channel.get(channel.id)
        if call is not None:
            call.owner.post(partial(self._state_changed, call, channel.state))

    async def _state_changed(self, call: LiveCall, state: str) -> None:
        if state in ("Ringing", "Up"):
            call.rang = True
        if state == "Up" and not call.answered:
            call.answered = True
            call.answered_at = time.monotonic()
            if call.phase == CallPhase.RINGING:
                await self.steps.step(call, CallEvent.ANSWERED)

    def on_verdict(self, channel: Channel, args: Sequence[str]) -> None:
        """StasisStart after AMD: args are ("outbound", verdict, cause, answer time)."""
        call = self.by_channel.get(channel.id)
        if call is None:
            log.warning("outbound channel %s is not ours; hanging up", channel.id)
            self.tasks.start(self.answers.hangup(channel.id), f"hang up {channel.id}")
            return
        call.owner.post(partial(self.answers.on_verdict, call, args))

    def on_listen(self, channel_id: str, args: Sequence[str]) -> None:
        """StasisStart of an answered call the streaming detector is to hear ("listen", ...)."""
        call = self.by_channel.get(channel_id)
        if call is None:
            log.warning("outbound channel %s is not ours; hanging up", channel_id)
            self.tasks.start(self.answers.hangup(channel_id), f"hang up {channel_id}")
            return
        self.streaming.on_listen(call, args)

    async def on_gone(self, channel_id: str, cause: int, tech_cause: int | None = None) -> None:
        """The voter's channel is destroyed: record the outcome and free the voter.
        `tech_cause`: the SIP status that ended it, when Asterisk says."""
        call = self.by_channel.get(channel_id)
        if call is not None:
            await call.owner.run(partial(self._gone, call, cause, tech_cause))

    async def _gone(self, call: LiveCall, cause: int, tech_cause: int | None) -> None:
        if call.channel_id not in self.by_channel:
            return
        event = gone_event(cause, rang=call.rang, trunk_down=self.gate.held_for(TRUNK_DOWN))
        if call.phase == CallPhase.RINGING and event == CallEvent.GONE_FAILED:
            _log_unreached(call.channel_id, cause, tech_cause)
        await self._end(call, event, cause=cause)

    async def on_lost(self, channel_id: str, reason: str) -> None:
        """The call vanished through a failure of ours (the PBX died or froze): a person we
        did not serve is an abandon, a machine a machine, a contact a contact; a call that
        never reached a verdict is not charged (states.LOST_AS)."""
        call = self.by_channel.get(channel_id)
        if call is not None:
            await call.owner.run(partial(self._lost, call, reason))

    async def _lost(self, call: LiveCall, reason: str) -> None:
        if call.channel_id not in self.by_channel:
            return
        attempt = await self.store.get_attempt(call.attempt_id)
        noted = _noted_verdict(call, attempt.amd_verdict)
        if noted is not None:  # answered while no engine listened (recovery noted it)
            await self.steps.step(call, noted)
        moved = await self._end(call, CallEvent.LOST)
        if moved is None:
            return
        if moved.outcome is not None:
            log.warning(
                "call %s: lost (%s); it counts as %s", call.channel_id, reason, moved.outcome
            )
            return
        await self._voter_back(call, reason)

    async def end_for_session(self, session: Session) -> None:
        """The volunteer ends the call, or their phone dropped: hang up the voter they talk
        to — or are being put through to right now."""
        for call in list(self.by_channel.values()):
            if call.session_id == session.id or (
                call.phase == CallPhase.CONNECTING and session.id in self.reserved
            ):
                await call.owner.run(partial(self._volunteer_gone, call, session.id))

    async def _volunteer_gone(self, call: LiveCall, session_id: int) -> None:
        if call.session_id == session_id:
            await self.answers.hangup(call.channel_id)

    async def close(self) -> None:
        """Stop every call's owner and helpers (the engine is stopping)."""
        # Taps first: a tap being made is removed once it is complete (it holds the tap's
        # lock), where cancelling its job could leave a channel Asterisk made a moment later.
        await self.streaming.close()
        await self.tasks.close()

    # --- the end -------------------------------------------------------------------------
    async def _give_back(self, call: LiveCall, reason: str) -> None:
        """End the attempt with no outcome and put the voter back as before the claim."""
        if self.by_channel.pop(call.channel_id, None) is None:
            return
        await self.steps.step(call, CallEvent.GIVEN_BACK)
        await self._voter_back(call, reason)

    async def _voter_back(self, call: LiveCall, reason: str) -> None:
        """The attempt is not charged: the voter is callable again as before the claim."""
        status = await give_back_voter(self.store, call.voter.id)
        log.warning(
            "call %s: not charged to voter %d (%s); voter back as %s",
            call.channel_id,
            call.voter.id,
            reason,
            status,
        )

    async def _end(
        self, call: LiveCall, event: CallEvent, *, cause: int | None = None
    ) -> Moved | None:
        """End the call by `event` (the table gives its outcome) and free the volunteer it
        was connected to; None if it had ended already."""
        if self.by_channel.pop(call.channel_id, None) is None:
            return None
        self.streaming.stop(call.channel_id)
        moved = await self.steps.step(call, event, cause=cause)
        if call.session_id is not None:
            session = await self.store.get_session(call.session_id)
            await self.sessions.call_ended(session)
            if call.campaign.hold_music and session.bridge_id:
                with contextlib.suppress(AriError):
                    await self.ari.start_bridge_moh(session.bridge_id)
        self.wakeups.wake(call.campaign.id)
        return moved


def _noted_verdict(call: LiveCall, verdict: str) -> CallEvent | None:
    """The event of an AMD verdict the dialplan kept while no engine listened, if the call
    has not had its verdict yet."""
    if not verdict or call.phase not in (CallPhase.RINGING, CallPhase.ANSWERED):
        return None
    if is_person(verdict, call.campaign.connect_notsure):
        return CallEvent.HUMAN
    return CallEvent.MACHINE if verdict != AmdVerdict.HANGUP else None


def _log_unreached(channel_id: str, cause: int, tech_cause: int | None) -> None:
    if outcome_for_cause(cause) == CallOutcome.NO_ANSWER:
        log.warning(
            "call %s: no SIP response from the carrier (cause %s, SIP %s): our failure, "
            "not the voter's; the attempt is given back",
            channel_id,
            cause,
            tech_cause,
        )
