"""The telephony runtime: routes ARI events to call-ins and outbound calls, keeps each
volunteer's bridge, and implements the CallControl the volunteer service uses."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

from engine.ari.client import AriClient
from engine.ari.event_types import (
    AriEvent,
    Channel,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelStateChange,
    EndpointStateChange,
    PhonebankDisconnected,
    PhonebankReconnected,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
    parse_event,
)
from engine.audio.media import Player
from engine.audio.sounds import SoundLibrary
from engine.callin.callins import CallIns
from engine.calls.gate import TRUNK_DOWN, DialingGate
from engine.calls.no_answers import RecentNoAnswers
from engine.calls.outbound import OutboundCalls
from engine.calls.preview import PreviewCalls
from engine.calls.stasis import StasisArg
from engine.calls.wakeups import Wakeups
from engine.config import CallinConfig
from engine.errors import AriError, AriNotFound
from engine.models import Session
from engine.notifier import DialingEvent, DialingView, Notifier, TelephonyEvent
from engine.sessions.control import BrowserLogin
from engine.sessions.ledger import SessionLedger
from engine.sessions.placement import on_node
from engine.sessions.states import LIVE_STATES, PREVIEW_STATES
from engine.store.base import Store
from engine.telephony.event_lanes import EventLanes
from engine.telephony.event_repeats import RepeatFilter
from engine.telephony.phone_legs import PhoneLegs
from engine.telephony.recovery import PbxRecovery
from engine.telephony.softphone import Softphones
from engine.telephony.trunk_watch import TrunkWatch

log = logging.getLogger(__name__)

QUALIFY_WINDOW_S = 15.0
"""The trunk reads online for up to one qualify round (10 s + 3 s timeout on a real trunk)
after the carrier fell silent: calls ending this long before the last online reading are
given back too when it goes down."""


NODE_LOST_S = 3.0
"""How long one of several dialer nodes may stay unreachable before its calls and phone legs
are taken for gone (a single node waits for its PBX instead: engine/telephony/recovery.py)."""


class Telephony:
    def __init__(
        self,
        ari: AriClient,
        store: Store,
        notifier: Notifier,
        sounds: SoundLibrary,
        *,
        sessions: SessionLedger,
        legs: PhoneLegs,
        player: Player,
        softphones: Softphones,
        gate: DialingGate,
        wakeups: Wakeups,
        no_answers: RecentNoAnswers,
        calls: OutboundCalls,
        preview: PreviewCalls,
        trunk: str,
        pin_length: int,
        callin: CallinConfig | None = None,
        node: str | None = None,
    ) -> None:
        self.ari = ari
        self.node = node
        """This dialer node's name (None: the only node); sessions whose leg joins here
        record it."""
        self.store = store
        self.notifier = notifier
        self.sounds = sounds
        self.trunk = trunk
        self.player = player
        self.sessions = sessions
        """The session ledger: phones and calls tell it when a phone connects or drops and a
        call is offered, connects or ends."""
        self.legs = legs
        self.softphones = softphones
        self.gate = gate
        """Whether the dialer may place calls now: held while the PBX is away (recovery.py)
        or the trunk to the carrier is down (trunk_watch.py)."""
        self.wakeups = wakeups
        self.no_answers = no_answers
        """Recent "no answer" endings (automatic and preview), which the trunk going down may
        show were ours."""
        self.calls = calls
        self.preview = preview
        self.callins = CallIns(
            ari, store, notifier, player, sounds, self.join_session, pin_length, callin
        )
        self.trunk_watch = TrunkWatch(ari, gate, trunk, on_change=self._gate_changed)
        self.recovery = PbxRecovery(
            ari,
            store,
            sessions,
            gate,
            softphones,
            legs,
            self.calls,
            self.preview,
            wakeups,
            trunk=trunk,
            notify=self.notify,
            phone_gone=self.phone_gone,
            node=node,
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self.lanes = EventLanes(self.handle)

    # --- event routing -------------------------------------------------------------------
    async def run(self) -> None:
        """Read ARI events until cancelled, handing each to its channel's lane.

        This loop never waits for a handler: each channel's events are handled in order in
        that channel's own task (event_lanes.py), so a slow call holds up only itself.
        Finished playbacks release their waiters here at once (a lane may be waiting on one).
        Each event is parsed once here (engine/ari/event_types.py).
        """
        repeats = RepeatFilter()
        async for raw in self.ari.events():
            if repeats.seen(raw):
                continue
            try:
                event = parse_event(raw)
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("malformed ARI event %s dropped: %s", raw.get("type"), exc)
                continue
            if isinstance(event, PlaybackFinished):
                self.player.on_PlaybackFinished(event)
            elif event is not None:
                self.lanes.route(event)

    async def handle(self, event: AriEvent) -> None:
        """Run the handler of one event (called by its channel's lane)."""
        match event:
            case StasisStart():
                self.on_StasisStart(event)
            case ChannelDtmfReceived():
                self.callins.on_dtmf(event.channel.id, event.digit)
            case ChannelStateChange():
                self.calls.on_state_change(event.channel)
                self.preview.on_state_change(event.channel)
            case EndpointStateChange():
                self.trunk_watch.on_EndpointStateChange(event)
            case StasisEnd():
                self.callins.forget(event.channel.id)
                await self.phone_gone(event.channel.id)
            case ChannelDestroyed():
                await self.on_ChannelDestroyed(event)
            case PhonebankDisconnected():
                self.recovery.on_disconnected(event.reason)
                if self.node is not None:
                    self.spawn(self._lose_node_after(NODE_LOST_S))
            case PhonebankReconnected():
                log.warning("ARI events reconnected; checking which calls survived")
                self.spawn(self.recovery.on_reconnected())

    async def _lose_node_after(self, seconds: float) -> None:
        """One of several nodes stayed away ``seconds``: take it for dead. Its calls end as
        lost (claims released, answered ones counted), and its volunteers' sessions wait for
        their phones, so they call back in and land on another node."""
        await asyncio.sleep(seconds)
        if self.ari.connected:
            return
        log.error("node %s: away for %.0f s: ending its calls and phone legs", self.node, seconds)
        await self.recovery.reconcile(alive=set())

    def on_StasisStart(self, event: StasisStart) -> None:
        channel, args = event.channel, event.args
        if args[:1] == (StasisArg.CALLIN,):
            self.spawn(self.callins.on_start(channel))
        elif args[:1] == (StasisArg.OUTBOUND,):
            self.calls.on_verdict(channel, args)
        elif args[:1] == (StasisArg.LISTEN,):
            self.calls.on_listen(channel.id, args)
        elif args[:1] == (StasisArg.PREVIEW,):
            self.preview.on_answer(channel)
        elif args[:1] == (StasisArg.BROWSER,):
            self.spawn(self._browser_joined(channel, args[1] if len(args) > 1 else ""))

    async def on_ChannelDestroyed(self, event: ChannelDestroyed) -> None:
        channel_id = event.channel.id
        self.player.target_gone(channel_id)
        self.callins.forget(channel_id)
        await self.phone_gone(channel_id)
        await self.calls.on_gone(channel_id, event.cause, event.tech_cause)
        await self.preview.on_gone(channel_id, event.cause, event.tech_cause)

    def notify(self, *, available: bool, message: str) -> None:
        """Tell every page (volunteers' and operators') whether the phone system works; one
        of several nodes tells only its own volunteers and their campaigns' dashboards."""
        event: TelephonyEvent = {"type": "telephony", "available": available, "message": message}
        if self.node is None:
            self.notifier.broadcast(event)
        else:
            self.spawn(self._notify_node(event))

    async def _notify_node(self, event: TelephonyEvent) -> None:
        by_campaign: dict[int, list[int]] = {}
        for session in await self.store.live_sessions():
            if on_node(session, self.node):
                by_campaign.setdefault(session.campaign_id, []).append(session.id)
        for campaign_id, session_ids in by_campaign.items():
            self.notifier.publish_to_sessions(campaign_id, session_ids, event)

    def spawn(self, coro: Awaitable[Any]) -> None:
        """Run a handler that waits (prompts, the 2 s connect window) without blocking events."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("telephony task failed", exc_info=task.exception())

    async def close(self) -> None:
        await self.lanes.close()
        await self.calls.close()
        await self.preview.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # The next engine on this PBX must not inherit the endpoint subscription (it would
        # then get every call-in event twice).
        with contextlib.suppress(AriError):
            await self.ari.unsubscribe(f"endpoint:PJSIP/{self.trunk}")

    # --- volunteers' phones --------------------------------------------------------------
    async def join_session(self, session: Session, channel_id: str) -> None:
        """Put a volunteer's answered phone leg into the session's bridge (made if needed)."""
        old = session.channel_id
        bridge_id = session.bridge_id
        if bridge_id is None or not await self._bridge_exists(bridge_id):
            bridge_id = f"session-{session.id}-{uuid.uuid4().hex[:6]}"
            await self.ari.create_bridge(
                "mixing", bridge_id=bridge_id, name=f"session {session.id}"
            )
        await self.ari.add_channel(bridge_id, channel_id)
        self.legs.add(channel_id, session.id)
        if self.node is not None and session.node != self.node:
            log.info("session %d: now on node %s", session.id, self.node)
            session = await self.store.update_session(session.id, node=self.node)
        if old and old != channel_id:
            self.legs.pop(old)
            with contextlib.suppress(AriNotFound):
                await self.ari.hangup(old)
        campaign = await self.store.get_campaign(session.campaign_id)
        if campaign.hold_music:
            try:
                await self.ari.start_bridge_moh(bridge_id)
            except AriError as exc:  # music is a nicety: the volunteer still joins
                log.warning("session %d: no hold music: %s", session.id, exc)
        await self.sessions.phone_connected(session, channel_id, bridge_id)

    async def _browser_joined(self, channel: Channel, endpoint: str) -> None:
        """A signed-in browser called 'join' with its session's credentials."""
        channel_id = channel.id
        login = self.softphones.by_endpoint.get(endpoint)
        session = await self.store.get_session(login.session_id) if login else None
        if session is None or session.state not in LIVE_STATES:
            log.warning(
                "browser call %s from unknown endpoint %r: hanging up", channel_id, endpoint
            )
            with contextlib.suppress(AriNotFound):
                await self.ari.hangup(channel_id)
            return
        log.info("session %d: browser audio %s joining", session.id, channel_id)
        with contextlib.suppress(AriNotFound):
            await self.ari.answer(channel_id)
            await self.join_session(session, channel_id)

    async def _bridge_exists(self, bridge_id: str) -> bool:
        return any(b["id"] == bridge_id for b in await self.ari.list_bridges())

    async def phone_gone(self, channel_id: str) -> None:
        session_id = self.legs.pop(channel_id)
        if session_id is None:
            return
        session = await self.store.get_session(session_id)
        log.info("session %d: the volunteer's phone leg %s hung up", session_id, channel_id)
        await self.phone_dropped(session)

    async def phone_dropped(self, session: Session) -> None:
        """The session's phone leg is gone: hang up its voter, give back a previewed one,
        and tell the ledger."""
        await self.calls.end_for_session(session)
        await self.preview.end_for_session(session)
        if session.state in PREVIEW_STATES:
            await self._give_back_preview(session)
        await self.sessions.phone_dropped(session)

    async def _give_back_preview(self, session: Session) -> None:
        """The volunteer's phone dropped while previewing or ringing: give the voter back, or
        hang up a voter who answered meanwhile."""
        if not await self.preview.release(session):
            await self.end_call(await self.store.get_session(session.id))

    # --- CallControl ---------------------------------------------------------------------
    async def end_call(self, session: Session) -> None:
        await self.calls.end_for_session(session)
        await self.preview.end_for_session(session)

    def dialing(self) -> DialingView:
        """Whether dialing is held now, and why (read-only, for the pages on load)."""
        return self.gate.view()

    async def place_preview_call(self, session: Session) -> str | None:
        return await self.preview.place(session)

    async def release_preview(self, session: Session) -> bool:
        return await self.preview.release(session)

    async def open_browser_audio(self, session: Session) -> None:
        await self.softphones.create(session.id)

    def browser_login(self, session_id: int) -> BrowserLogin | None:
        return self.softphones.by_session.get(session_id)

    def wake(self, campaign_id: int) -> None:
        self.wakeups.wake(campaign_id)

    def _gate_changed(self) -> None:
        last_online = self.trunk_watch.last_online
        if self.gate.held_for(TRUNK_DOWN) and last_online is not None:
            since = last_online - timedelta(seconds=QUALIFY_WINDOW_S)
            self.spawn(self.no_answers.give_back_since(since))
        self.spawn(self.publish_dialing())
        self.wakeups.dialer.set()

    async def publish_dialing(self) -> None:
        """Tell every signed-in volunteer and their campaigns' dashboards whether dialing is
        held, and why ({"type": "dialing", "paused": ..., "message": ...})."""
        event: DialingEvent = {"type": "dialing", **self.gate.view()}
        campaigns: set[int] = set()
        for session in await self.store.live_sessions():
            if not on_node(session, self.node):
                continue
            self.notifier.publish(session.campaign_id, session.id, event)
            campaigns.add(session.campaign_id)
        log.info("told %d campaign(s): %s", len(campaigns), event["message"] or "dialing resumed")

    # --- recovery ------------------------------------------------------------------------
    async def recover(self) -> None:
        """After an engine start: see PbxRecovery.recover."""
        await self.recovery.recover()

    async def watch_trunk(self) -> None:
        """Follow the trunk's state until cancelled (trunk_watch.py)."""
        await self.trunk_watch.run()
