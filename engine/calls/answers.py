"""An automatic call after its AMD verdict: a person is connected to a ready volunteer within
2 seconds or abandoned (an identification message, then the hang-up); a machine gets the
campaign's message or is hung up; a line with no audio at all is hung up as dead air.

Every step that changes the call is a job of the call's owner (owner.py). The 2-second search
for a volunteer runs beside it and hands each volunteer it reserves to the owner to bridge.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from functools import partial
from typing import Any

from engine.ari.client import AriClient
from engine.audio.media import Player
from engine.audio.sounds import SoundLibrary
from engine.calls.dead_air import audio_stopped, received_packets
from engine.calls.ending import CallSteps
from engine.calls.live import LiveCall
from engine.calls.owner import Tasks
from engine.calls.ports import NO_COUNTS, CallCounts, SessionEvents
from engine.calls.stasis import AmdVerdict, amd_result, is_person
from engine.calls.states import CallEvent, CallPhase
from engine.calls.wakeups import Wakeups
from engine.clock import utc_now
from engine.errors import AriError, AriNotFound
from engine.models import Session, SessionState
from engine.sessions.placement import on_node
from engine.sessions.states import SessionEvent
from engine.store.base import Store

log = logging.getLogger(__name__)

CONNECT_WINDOW_S = 2.0
"""A live answer not connected to a volunteer within this time is abandoned."""
BEEP = "sound:beep"
AMD_CONTEXT = "phonebank-amd"
"""The dialplan context that runs AMD() and hands its verdict to the engine."""
SILENCE_CAUSE = "SILENCE"
"""The streaming detector's cause for a person who has not spoken (engine/amd/detector.py)."""
TAKEN_BACK_TONE = "sound:beeperr"
"""What a volunteer hears when early connect takes a machine back from them: Asterisk's short
error beep (0.5 s). Not an indication tone: ARI plays those until stopped, and every later
beep on that channel would queue behind it."""
TAKEN_BACK_NOTE = "That was an answering machine. You're ready for the next call."
"""What a volunteer reads then."""


class Answers:
    def __init__(
        self,
        ari: AriClient,
        store: Store,
        player: Player,
        sounds: SoundLibrary,
        sessions: SessionEvents,
        wakeups: Wakeups,
        steps: CallSteps,
        tasks: Tasks,
        counts: CallCounts = NO_COUNTS,
        node: str | None = None,
    ) -> None:
        self.ari = ari
        self.node = node
        """The node the calls live on: only its volunteers can take them."""
        self.store = store
        self.player = player
        self.sounds = sounds
        self.sessions = sessions
        self.wakeups = wakeups
        self.steps = steps
        self.tasks = tasks
        self.counts = counts
        self.reserved: set[int] = set()
        """Sessions being connected to a call right now (not offered to another)."""
        self.bridge_latencies: list[float] = []
        """Seconds from AMD verdict to the voter being in the volunteer's bridge, for answers
        a volunteer was ready for (not those that waited for one under the 2-second rule):
        the engine's own speed."""

    async def on_verdict(self, call: LiveCall, args: Sequence[str]) -> None:
        """A job of the call's owner: AMD's verdict ("outbound", verdict, cause, answer time)."""
        if call.phase not in (CallPhase.RINGING, CallPhase.ANSWERED):
            log.warning("call %s: AMD verdict while %s: ignored", call.channel_id, call.phase)
            return
        call.verdict_at = time.monotonic()
        amd = amd_result(args)
        self.counts.verdict(amd.verdict)
        person = is_person(amd.verdict, call.campaign.connect_notsure)
        if amd.verdict == AmdVerdict.NOTSURE and person and await self._dead_air(call):
            return
        if amd.cause.startswith(SILENCE_CAUSE) and await self._dead_silence(call):
            return
        fields: dict[str, Any] = {
            "amd_verdict": amd.verdict,
            "amd_cause": amd.cause,
            "amd_at": utc_now(),
            "answered_at": amd.answered_at,
        }
        if person:
            await self.steps.step(call, CallEvent.HUMAN, **fields)
            self.tasks.start(self._connect(call), f"connect {call.channel_id}")
        elif call.campaign.voicemail_message:
            await self.steps.step(call, CallEvent.VOICEMAIL_STARTED, **fields)
            await self._leave_message(call)
        else:
            await self.steps.step(call, CallEvent.MACHINE, **fields)
            await self.hangup(call.channel_id)

    async def _dead_air(self, call: LiveCall) -> bool:
        """AMD could not tell: if no audio arrives at all, the line is dead, not a person
        (engine/calls/dead_air.py). Hang it up; the network's failure, not the voter's."""
        try:
            dead = await audio_stopped(self.ari, call.channel_id)
        except AriNotFound:
            return False  # hung up meanwhile: its ChannelDestroyed follows
        return dead and await self._hang_up_dead(call, "answered but no audio arrives")

    async def _dead_silence(self, call: LiveCall) -> bool:
        """The streaming detector heard only silence (HUMAN/SILENCE): if not one RTP packet
        arrived since it began to listen, the line is dead, not a person waiting."""
        if call.packets_at_listen is None:
            return False
        try:
            now = await received_packets(self.ari, call.channel_id)
        except AriNotFound:
            return False
        return now == call.packets_at_listen and await self._hang_up_dead(
            call, "silent and no audio arrives"
        )

    async def _hang_up_dead(self, call: LiveCall, why: str) -> bool:
        log.warning("call %s: %s: dead air, hanging up", call.channel_id, why)
        await self.steps.step(call, CallEvent.DEAD_AIR)
        await self.hangup(call.channel_id)
        return True

    async def to_app_amd(self, call: LiveCall) -> None:
        """Send an answered call waiting for the streaming detector to the dialplan's AMD()
        (phonebank-amd), whose verdict comes back through Stasis. Raises AriError."""
        if call.campaign.amd_args:
            await self.ari.set_variable(call.channel_id, "PHONEBANK_AMD", call.campaign.amd_args)
        await self.ari.continue_in_dialplan(call.channel_id, AMD_CONTEXT, "s", 1)

    async def confirm(self, call: LiveCall, args: Sequence[str]) -> None:
        """A job of the call's owner: the detector confirms the person early connect put
        through; its cause replaces EARLY-<ms> on the attempt."""
        await self.store.update_attempt(call.attempt_id, amd_cause=amd_result(args).cause)

    async def take_back(self, call: LiveCall, args: Sequence[str]) -> None:
        """A job of the call's owner: early connect put the call through (or was seeking a
        volunteer for it) and the detector now says MACHINE. The volunteer is taken back out
        with a short tone and is ready again, no result owed; the machine is hung up or gets
        the campaign's message."""
        amd = amd_result(args)  # not counted again: phonebank_amd_verdicts has its first
        heard = call.phase == CallPhase.CONNECTED and call.session_id is not None
        if heard and call.session_id is not None:
            await self._release_volunteer(call, call.session_id)
        fields: dict[str, Any] = {
            "amd_verdict": amd.verdict,
            "amd_cause": amd.cause,
            "amd_at": utc_now(),
            "heard_machine": heard,
        }
        log.info("call %s: a machine after an early connect; taken back", call.channel_id)
        if call.campaign.voicemail_message:
            await self.steps.step(call, CallEvent.VOICEMAIL_STARTED, **fields)
            await self._leave_message(call)
        else:
            await self.steps.step(call, CallEvent.MACHINE, **fields)
            await self.hangup(call.channel_id)

    async def _release_volunteer(self, call: LiveCall, session_id: int) -> None:
        call.session_id = None
        self.counts.taken_back()
        session = await self.store.get_session(session_id)
        if session.bridge_id:
            with contextlib.suppress(AriNotFound):
                await self.ari.remove_channel(session.bridge_id, call.channel_id)
        if session.channel_id:
            with contextlib.suppress(AriNotFound):
                await self.player.play("channels", session.channel_id, TAKEN_BACK_TONE)
        if call.campaign.hold_music and session.bridge_id:
            with contextlib.suppress(AriError):
                await self.ari.start_bridge_moh(session.bridge_id)
        await self.sessions.transition(
            session, SessionEvent.CALL_TAKEN_BACK, note=TAKEN_BACK_NOTE, attempt_id=None
        )
        self.wakeups.wake(call.campaign.id)

    # --- connecting (beside the owner) ----------------------------------------------------
    async def _connect(self, call: LiveCall) -> None:
        """Find a ready volunteer within CONNECT_WINDOW_S of the verdict, else abandon."""
        deadline = call.verdict_at + CONNECT_WINDOW_S
        first_try = True
        while call.phase == CallPhase.CONNECTING:
            session = await self._reserve_volunteer(call.campaign.id)
            if session is not None:
                try:
                    if await call.owner.run(partial(self._bridge, call, session, first_try)):
                        return
                finally:
                    self.reserved.discard(session.id)
            first_try = False
            remaining = deadline - time.monotonic()
            if remaining <= 0 or call.phase != CallPhase.CONNECTING:
                break
            await self.wakeups.wait_for_volunteer(call.campaign.id, remaining)
        call.owner.post(lambda: self._abandon(call))

    async def _reserve_volunteer(self, campaign_id: int) -> Session | None:
        for session in await self.sessions.ready_sessions(campaign_id):
            if session.id not in self.reserved and on_node(session, self.node):
                self.reserved.add(session.id)
                return session
        return None

    async def _bridge(self, call: LiveCall, session: Session, measure: bool) -> bool:
        """A job of the call's owner: beep to the volunteer and put the voter in their
        bridge. True when done with connecting (bridged, or the call moved on meanwhile);
        False if that volunteer could not take it. `measure`: record the verdict → bridge
        time (the volunteer was ready at the verdict)."""
        if call.phase != CallPhase.CONNECTING:
            return True
        session = await self.store.get_session(session.id)
        if session.state != SessionState.READY or not (session.bridge_id and session.channel_id):
            return False  # the volunteer left or dropped since they were found
        if call.campaign.hold_music:
            with contextlib.suppress(AriError):
                await self.ari.stop_bridge_moh(session.bridge_id)
        try:
            await self.ari.add_channel(session.bridge_id, call.channel_id)
        except AriNotFound:
            return False  # the voter or the bridge is gone; its ChannelDestroyed follows
        with contextlib.suppress(AriNotFound):
            await self.player.play("channels", session.channel_id, BEEP)
        if measure:
            self.bridge_latencies.append(time.monotonic() - call.verdict_at)
            self.counts.bridged(self.bridge_latencies[-1])
        call.session_id = session.id
        await self.steps.step(
            call, CallEvent.VOLUNTEER_FOUND, bridged_at=utc_now(), session_id=session.id
        )
        attempt = await self.store.get_attempt(call.attempt_id)
        await self.sessions.call_connected(session, attempt, call.voter, call.campaign)
        return True

    async def _abandon(self, call: LiveCall) -> None:
        """A job of the call's owner: nobody was free in time (unless it moved on since)."""
        if call.phase != CallPhase.CONNECTING:
            return
        log.info(
            "call %s: no volunteer free within %.0f s; abandoning",
            call.channel_id,
            CONNECT_WINDOW_S,
        )
        await self.steps.step(call, CallEvent.NO_VOLUNTEER)
        self.tasks.start(
            self._play_then_hang_up(call.channel_id, call.campaign.abandon_message),
            f"abandon {call.channel_id}",
        )

    async def _leave_message(self, call: LiveCall) -> None:
        # Wait for the greeting and its beep to end, then speak (dialplan WaitForSilence).
        media = await self.sounds.media_for(call.campaign.voicemail_message)
        with contextlib.suppress(AriNotFound):
            await self.ari.set_variable(
                call.channel_id, "PHONEBANK_MESSAGE", media.removeprefix("sound:")
            )
            await self.ari.continue_in_dialplan(call.channel_id, "phonebank-voicemail", "s", 1)

    async def _play_then_hang_up(self, channel_id: str, text: str) -> None:
        """Beside the owner (it changes nothing of the call): the voter hanging up meanwhile
        ends the playback, and the call, in its owner."""
        media = await self.sounds.media_for(text)
        with contextlib.suppress(AriNotFound):
            await self.player.play("channels", channel_id, media, wait=True, timeout=30)
        await self.hangup(channel_id)

    async def hangup(self, channel_id: str) -> None:
        with contextlib.suppress(AriNotFound):
            await self.ari.hangup(channel_id)
