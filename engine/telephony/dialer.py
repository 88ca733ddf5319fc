"""The dialer loop: for every campaign with ready volunteers, ask pacing how many calls to
place, claim that many callable voters atomically and originate them, paced so bursts never
overload Asterisk."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zoneinfo
from datetime import UTC, datetime

from engine.calling_hours import zones_within_hours
from engine.errors import PhonebankError
from engine.models import Campaign
from engine.pacing import PacingState, pacing_for
from engine.telephony.runtime import Telephony

log = logging.getLogger(__name__)

TICK_S = 1.0
ALL_ZONES = frozenset(zoneinfo.available_timezones()) | {""}
UNLIMITED = 10**9
"""Pacing need not know how many voters are left: claiming returns fewer when few are."""


class Dialer:
    def __init__(self, telephony: Telephony, *, originates_per_second: float = 20.0) -> None:
        self.tel = telephony
        self.interval = 1.0 / originates_per_second
        self._last_originate = 0.0

    async def run(self) -> None:
        """Place calls until cancelled; wakes up at once when a volunteer becomes ready."""
        while True:
            self.tel.dialer_wakeup.clear()
            try:
                await self.tick()
            except PhonebankError as exc:
                log.warning("dialer: %s", exc)
            except Exception:
                log.exception("dialer tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.tel.dialer_wakeup.wait(), TICK_S)

    async def tick(self) -> None:
        sessions = await self.tel.store.live_sessions()
        for campaign_id in sorted({s.campaign_id for s in sessions}):
            campaign = await self.tel.store.get_campaign(campaign_id)
            if campaign.active:
                await self.dial_campaign(campaign)

    async def dial_campaign(self, campaign: Campaign) -> int:
        ready = await self.tel.volunteers.ready_sessions(campaign.id)
        dialing, connecting = self.tel.calls.in_flight(campaign.id)
        state = PacingState(
            ready_volunteers=len(ready),
            in_flight=dialing,
            connecting=connecting,
            voters_available=UNLIMITED,
        )
        wanted = pacing_for(campaign).calls_to_place(state)
        if wanted <= 0:
            return 0
        now = datetime.now(UTC)
        zones = zones_within_hours(
            ALL_ZONES, campaign.calling_hours_start, campaign.calling_hours_end, now
        )
        claimed = await self.tel.store.claim_voters(
            campaign.id, wanted, now, zones, campaign.max_attempts
        )
        calls = [self.tel.calls.register(campaign, voter, attempt) for voter, attempt in claimed]
        for call in calls:
            await self._pace()
            self.tel.spawn(self.tel.calls.dial(call))
        if claimed:
            log.info(
                "campaign %d: %d ready, %d dialing -> placed %d call(s)",
                campaign.id,
                len(ready),
                dialing,
                len(claimed),
            )
        return len(claimed)

    async def _pace(self) -> None:
        wait = self._last_originate + self.interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_originate = time.monotonic()
