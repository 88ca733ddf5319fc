"""Surviving our own failures: the dialer PBX going away and coming back, and the engine
restarting while Asterisk kept running.

- The events websocket lost (Asterisk died, restarts or froze): dialing is held
  (DialingGate reason PBX_DOWN) and every page is told; nothing is originated meanwhile.
- It is back: calls that vanished end with the outcome lost_calls.py gives them (uncharged
  when they never reached a verdict), volunteers whose phone legs are gone go to waiting for
  the phone, browser credentials are put back after an Asterisk restart, dialing resumes at once.
- The engine starts on a PBX that an earlier run left running: calls still ringing or still
  talking are adopted and carry on, the rest are closed with honest outcomes (an answer that
  found no engine in Stasis is an abandon), and volunteers' phone legs stay in their bridges.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from engine.ari.client import AriClient
from engine.calls.gate import PBX_DOWN, DialingGate
from engine.calls.lost_calls import GAP_VARIABLE, give_back_voter, lost_outcome, parse_gap
from engine.calls.outbound import OutboundCalls
from engine.calls.preview import PreviewCalls
from engine.calls.stasis import StasisArg
from engine.calls.streaming import LISTEN_CONTEXT
from engine.calls.voter_release import settle_voter
from engine.calls.wakeups import Wakeups
from engine.clock import utc_now
from engine.errors import AriError, AriNotFound
from engine.models import Attempt, CallState, SessionState
from engine.sessions.ledger import SessionLedger
from engine.sessions.placement import channel_on_node, local_channel_id, on_node
from engine.store.base import Store
from engine.telephony.phone_legs import PhoneLegs
from engine.telephony.softphone import Softphones

log = logging.getLogger(__name__)

PBX_DOWN_MESSAGE = (
    "The phone system is not answering (it may be restarting): calls will resume "
    "automatically as soon as it is back."
)
PBX_BACK_MESSAGE = (
    "The phone system is back and calls resume. If you called in by phone and were cut off, "
    "call back in with your PIN; computer audio reconnects by itself (reload the page if it "
    "does not)."
)
RESUME_RETRY_S = 0.5


class Notify(Protocol):
    def __call__(self, *, available: bool, message: str) -> None:
        """Tell every page whether the phone system works, and why in words."""


class PbxRecovery:
    def __init__(
        self,
        ari: AriClient,
        store: Store,
        sessions: SessionLedger,
        gate: DialingGate,
        softphones: Softphones,
        legs: PhoneLegs,
        calls: OutboundCalls,
        preview: PreviewCalls,
        wakeups: Wakeups,
        *,
        trunk: str,
        notify: Notify,
        phone_gone: Callable[[str], Awaitable[None]],
        node: str | None = None,
    ) -> None:
        self.ari = ari
        self.node = node
        """This node's name (None: the only node). A named node adopts or closes only the
        calls whose channel ids carry its name and the sessions on it, and leaves the
        sessions' own recovery (wrap-up deadlines, previews) to the engine, done once."""
        self.store = store
        self.sessions = sessions
        self.gate = gate
        self.softphones = softphones
        self.legs = legs
        self.calls = calls
        self.preview = preview
        self.wakeups = wakeups
        self.trunk = trunk
        self.notify = notify
        """Tell every page whether the phone system works (Telephony.notify)."""
        self.phone_gone = phone_gone
        """End what a volunteer's phone leg vanishing ends (Telephony.phone_gone)."""
        self.started_at = ""
        """Asterisk's startup time when last seen: a new one means it restarted."""
        self.outages = 0
        """How many times the events websocket was lost: a resume that started before the
        latest loss must not open the gate."""

    # --- the events websocket going and coming --------------------------------------------
    def on_disconnected(self, reason: str) -> None:
        log.error("the dialer PBX is not answering (%s): dialing held", reason)
        self.outages += 1
        if self.gate.hold(PBX_DOWN, PBX_DOWN_MESSAGE):
            self.notify(available=False, message=PBX_DOWN_MESSAGE)

    async def on_reconnected(self) -> None:
        """Reconcile, then resume dialing; retried while the websocket stays up (the first
        REST requests after an Asterisk restart may still fail)."""
        while self.ari.connected:
            try:
                await self.resume()
                return
            except AriError as exc:
                log.warning("reconciling after the PBX came back failed (%s); retrying", exc)
                await asyncio.sleep(RESUME_RETRY_S)

    async def resume(self) -> None:
        outages = self.outages
        await self.ari.subscribe(f"endpoint:PJSIP/{self.trunk}")
        restarted = await self.note_startup()
        await self.reconcile()
        if restarted:
            log.warning("the dialer PBX restarted: browser credentials put back")
            await self.softphones.restore()
        if outages != self.outages or not self.ari.connected:
            log.warning("the dialer PBX went away again while reconciling: dialing stays held")
            return
        if self.gate.release(PBX_DOWN):
            self.notify(available=True, message=PBX_BACK_MESSAGE)
        self.wakeups.dialer.set()

    async def note_startup(self) -> bool:
        """Remember Asterisk's startup time; True when it changed (Asterisk restarted)."""
        info = await self.ari.info()
        started = str(info.get("status", {}).get("startup_time", ""))
        restarted = bool(self.started_at) and started != self.started_at
        self.started_at = started
        return restarted

    async def reconcile(self, alive: set[str] | None = None) -> None:
        """End what vanished while the websocket was away (``alive``: the channels that still
        exist; None: ask Asterisk, who also says which calls were answered meanwhile)."""
        asked = alive is None
        if alive is None:
            alive = {c["id"] for c in await self.ari.list_channels()}
        for channel_id in [c for c in self.calls.by_channel if c not in alive]:
            call = self.calls.by_channel[channel_id]
            if asked:
                await self._note_gap(call.attempt_id, channel_id)
            await self.calls.on_lost(channel_id, "it vanished while the PBX was away")
        for channel_id in [c for c in self.preview.by_channel if c not in alive]:
            await self.preview.on_lost(channel_id)
        for channel_id in [c for c in self.legs.channels() if c not in alive]:
            await self.phone_gone(channel_id)

    async def _note_gap(self, attempt_id: int, channel_id: str) -> str:
        """Record the verdict of an answer that found no engine in Stasis (the dialplan kept
        it in a global variable); returns the verdict, "" when there is none."""
        name = GAP_VARIABLE.format(channel_id=channel_id)
        try:
            value = await self.ari.get_global_variable(name)
        except AriNotFound:
            value = ""
        if not value:
            return ""
        with contextlib.suppress(AriError):
            await self.ari.set_global_variable(name, "")
        verdict, answered_at = parse_gap(value)
        log.warning("call %s: answered (%s) while no engine listened", channel_id, verdict)
        await self.store.update_attempt(attempt_id, amd_verdict=verdict, answered_at=answered_at)
        return verdict

    # --- the engine starting on a running PBX ---------------------------------------------
    async def recover(self) -> None:
        """After an engine start: adopt surviving calls, close the rest, keep phone legs."""
        await self.ari.subscribe(f"endpoint:PJSIP/{self.trunk}")
        await self.note_startup()
        alive = {c["id"]: c for c in await self.ari.list_channels()}
        talking: set[int] = set()
        for attempt in await self.store.open_attempts():
            if not channel_on_node(self.node, attempt.channel_id):
                continue
            channel = alive.get(attempt.channel_id or "")
            if channel is not None and await self._adopt(attempt, channel, alive):
                if attempt.state == CallState.CONNECTED and attempt.session_id is not None:
                    talking.add(attempt.session_id)
                continue
            if channel is not None:
                with contextlib.suppress(AriNotFound):
                    await self.ari.hangup(channel["id"])
            elif attempt.channel_id:
                await self._note_gap(attempt.id, attempt.channel_id)
                attempt = await self.store.get_attempt(attempt.id)
            await close_orphan(self.store, attempt, "the engine restarted during the call")
        for session in await self.store.live_sessions():
            if not on_node(session, self.node):
                continue
            if session.channel_id and session.channel_id in alive:
                self.legs.add(session.channel_id, session.id)
                log.info(
                    "session %d: phone leg %s survived the restart", session.id, session.channel_id
                )
                if session.id not in talking:
                    await self.sessions.call_ended(session)
            elif session.channel_id:
                await self.sessions.phone_dropped(session)
        if self.node is None:
            await self.sessions.recover()

    async def _adopt(
        self, attempt: Attempt, channel: dict[str, Any], alive: dict[str, Any]
    ) -> bool:
        """Carry on with an automatic call that outlived the engine: one still ringing or in
        answering-machine detection, or one connected to a volunteer whose phone is still
        there. False when the call cannot be carried on."""
        if not local_channel_id(self.node, attempt.channel_id or "").startswith("call-"):
            return False
        session_id = None
        if attempt.state == CallState.CONNECTED and attempt.session_id is not None:
            session = await self.store.get_session(attempt.session_id)
            if session.state != SessionState.TALKING or session.channel_id not in alive:
                return False
            session_id = session.id
        elif attempt.state != CallState.DIALING:
            return False
        campaign = await self.store.get_campaign(attempt.campaign_id)
        voter = await self.store.get_voter(attempt.voter_id)
        answered = channel.get("state") == "Up"
        call = self.calls.adopt(attempt, campaign, voter, session_id=session_id, answered=answered)
        log.warning(
            "call %s: survived the engine restart (%s); carrying on", call.channel_id, call.state
        )
        if answered and _waits_for_listener(channel) and attempt.amd_verdict == "":
            # Answered for the streaming detector, which died with the old engine: listen
            # again (the answer time is lost with it).
            self.calls.on_listen(call.channel_id, (StasisArg.LISTEN.value, ""))
        return True


async def close_orphan(store: Store, attempt: Attempt, reason: str) -> None:
    """End an attempt left open by an earlier run of the engine, charged as lost_calls.py
    says: uncharged when it never reached a verdict."""
    campaign = await store.get_campaign(attempt.campaign_id)
    outcome = lost_outcome(
        attempt.state, attempt.amd_verdict, attempt.bridged_at is not None, campaign.connect_notsure
    )
    await store.update_attempt(
        attempt.id, state=CallState.ENDED, ended_at=utc_now(), outcome=outcome
    )
    if outcome is None:
        status = await give_back_voter(store, attempt.voter_id)
    else:
        status = await settle_voter(store, campaign, attempt.voter_id, outcome)
    log.warning(
        "call %s: closed as %s (%s); voter %d now %s",
        attempt.channel_id,
        outcome or "not charged",
        reason,
        attempt.voter_id,
        status,
    )


def _waits_for_listener(channel: dict[str, Any]) -> bool:
    """The channel sits in the Stasis app from phonebank-listen, waiting for a verdict."""
    dialplan = channel.get("dialplan") or {}
    return dialplan.get("context") == LISTEN_CONTEXT and dialplan.get("app_name") == "Stasis"
