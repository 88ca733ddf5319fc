"""The dialer loop: for every campaign with volunteers signed in, ask its pacing how many
calls to place, claim that many callable voters atomically and originate them, paced so
bursts never overload Asterisk."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime
from typing import Any

from engine.calls.gate import DialingGate
from engine.calls.outbound import OutboundCalls
from engine.calls.preview import PreviewCalls
from engine.calls.wakeups import Wakeups
from engine.clock import utc_now
from engine.dialer.campaign_pacing import CampaignPacing
from engine.dialer.idle_watch import IdleWatch
from engine.dialer.pacing.base import PacingState
from engine.errors import PhonebankError
from engine.models import Campaign, Session, SessionState
from engine.sessions.ledger import SessionLedger
from engine.sessions.placement import on_node
from engine.store.base import Store
from engine.voters.calling_hours import zones_open_now
from engine.voters.line_types import automatic_line_types, preview_line_types

log = logging.getLogger(__name__)

TICK_S = 1.0
UNLIMITED = 10**9
"""Pacing need not know how many voters are left: claiming returns fewer when few are."""


class Dialer:
    def __init__(
        self,
        store: Store,
        gate: DialingGate,
        wakeups: Wakeups,
        sessions: SessionLedger,
        calls: OutboundCalls,
        preview: PreviewCalls,
        idle: IdleWatch,
        *,
        originates_per_second: float = 20.0,
        node: str | None = None,
    ) -> None:
        self.store = store
        self.node = node
        """The dialer node whose volunteers this loop paces (None: the only node); voter
        claims stay shared and atomic, so two nodes never dial one voter at once."""
        self.gate = gate
        self.wakeups = wakeups
        self.sessions = sessions
        self.calls = calls
        self.preview = preview
        self.idle = idle
        """Why nobody can be called, when the dialer finds nobody (issue 14 item 2)."""
        self.interval = 1.0 / originates_per_second
        self._last_originate = 0.0
        self.pacing: dict[int, CampaignPacing] = {}
        """Each campaign's pacing, kept between ticks (policies remember)."""

    async def run(self) -> None:
        """Place calls until cancelled; wakes up at once when a volunteer becomes ready."""
        while True:
            self.wakeups.dialer.clear()
            try:
                await self.tick()
            except PhonebankError as exc:
                log.warning("dialer: %s", exc)
            except Exception:
                log.exception("dialer tick failed")
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel
            # that arrives as the event fires, and the engine would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK_S):
                    await self.wakeups.dialer.wait()

    async def tick(self) -> None:
        if not self.gate.open:
            return  # nothing is placed (or offered) while something of ours is down
        sessions = await self.store.live_sessions()
        signed_in = {s.campaign_id for s in sessions}
        self.idle.keep_only(signed_in)
        for campaign_id in sorted(signed_in):
            campaign = await self.store.get_campaign(campaign_id)
            if campaign.active:
                await self.dial_campaign(campaign)
            else:
                await self.idle.nothing_to_dial(campaign)

    async def close(self) -> None:
        """Learn from the last finished calls and save what every campaign's pacing
        has learned."""
        now = utc_now()
        for pacing in self.pacing.values():
            await pacing.refresh(self.store, now, force=True)
            await pacing.save(self.store, now)

    def pacing_summary(self, campaign_id: int) -> dict[str, Any] | None:
        """The campaign's dial mode, last pacing decision and what it learned; None when
        the dialer has not paced it since the engine started."""
        pacing = self.pacing.get(campaign_id)
        return None if pacing is None else pacing.summary()

    async def campaign_pacing(self, campaign: Campaign) -> CampaignPacing:
        pacing = self.pacing.get(campaign.id)
        if pacing is None:
            pacing = self.pacing[campaign.id] = await CampaignPacing.load(self.store, campaign)
        pacing.update_campaign(campaign)
        return pacing

    async def pacing_state(self, campaign: Campaign, ready: int) -> PacingState:
        """The campaign right now: volunteers by what they are doing and for how long,
        calls by phase and for how long."""
        now = utc_now()
        clock = time.monotonic()
        sessions = [s for s in await self.store.live_sessions(campaign.id) if self._ours(s)]
        dialing, connecting = self.calls.in_flight(campaign.id)
        ringing, amd = self.calls.dialing_elapsed(campaign.id, clock)
        return PacingState(
            ready_volunteers=ready,
            in_flight=dialing,
            connecting=connecting,
            voters_available=UNLIMITED,
            now=clock,
            talking_elapsed=_elapsed(sessions, SessionState.TALKING, now),
            wrap_up_elapsed=_elapsed(sessions, SessionState.WRAP_UP, now),
            ringing_elapsed=tuple(ringing),
            amd_elapsed=tuple(amd),
        )

    async def dial_campaign(self, campaign: Campaign) -> int:
        """Place the calls the campaign's pacing asks for; offer preview cards when the
        campaign previews (all its voters, or its mobile numbers once no automatic call is
        left to make). Returns how many automatic calls were placed."""
        now = utc_now()
        zones = zones_open_now(campaign.calling_hours_start, campaign.calling_hours_end, now)
        if campaign.dial_mode == "preview":
            await self._offer_previews(campaign, zones)
            return 0
        pacing = await self.campaign_pacing(campaign)
        await pacing.refresh(self.store, now)
        ready = [s for s in await self.sessions.ready_sessions(campaign.id) if self._ours(s)]
        state = await self.pacing_state(campaign, len(ready))
        wanted = pacing.decide(state)
        claimed = []
        if wanted > 0:
            claimed = await self.store.claim_voters(
                campaign.id,
                wanted,
                now,
                zones,
                campaign.max_attempts,
                automatic_line_types(campaign),
                channel_name=self.calls.channel_name,
            )
        pacing.placed(len(claimed))
        calls = [self.calls.register(campaign, voter, attempt) for voter, attempt in claimed]
        for call in calls:
            await self._pace()
            self.calls.start_dialing(call)
        if claimed:
            await self.idle.dialing(campaign.id)
            log.info(
                "campaign %d: %d ready, %d dialing -> placed %d call(s)",
                campaign.id,
                state.ready_volunteers,
                state.in_flight,
                len(claimed),
            )
        elif preview_line_types(campaign) and self.calls.in_flight(campaign.id) == (0, 0):
            # Mobiles by hand: only once no automatic call is ringing, since a volunteer
            # looking at a card is not ready for a person who answers one.
            await self._offer_previews(campaign, zones)
        elif wanted > 0 and self.calls.in_flight(campaign.id) == (0, 0):
            await self.idle.nothing_to_dial(campaign)
        return len(claimed)

    async def _offer_previews(self, campaign: Campaign, zones: set[str]) -> None:
        ready = [s for s in await self.sessions.ready_sessions(campaign.id) if self._ours(s)]
        if not ready:
            return
        if await self.preview.offer(campaign, ready, zones):
            await self.idle.dialing(campaign.id)
        else:
            await self.idle.nothing_to_dial(campaign)

    def _ours(self, session: Session) -> bool:
        return on_node(session, self.node)

    async def _pace(self) -> None:
        wait = self._last_originate + self.interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_originate = time.monotonic()


def _elapsed(sessions: list[Session], state: SessionState, now: datetime) -> tuple[float, ...]:
    return tuple(
        max(0.0, (now - s.state_since).total_seconds()) for s in sessions if s.state == state
    )
