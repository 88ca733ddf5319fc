"""Keeps, per campaign, why nobody can be called now (engine/dialer/availability.py): the
dialer asks when it finds nobody to call (at most every CHECK_EVERY_S seconds per campaign)
and says when calls go out again; each change goes to the campaign's dashboards and its
volunteers' pages as an ``availability`` event."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.clock import utc_now
from engine.dialer.availability import Availability, explain
from engine.models import Campaign
from engine.notifier import AvailabilityEvent, Notifier
from engine.store.base import Store
from engine.voters.calling_hours import zones_open_now

log = logging.getLogger(__name__)

CHECK_EVERY_S = 5.0
"""The voters are counted again no more often than this for one campaign."""


class IdleWatch:
    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        zone_of: Callable[[Campaign, Mapping[str, int]], ZoneInfo],
        *,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        every_s: float = CHECK_EVERY_S,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.zone_of = zone_of
        """The campaign's zone from its voters' (engine/time_zone.py campaign_zone)."""
        self.clock = clock
        self.monotonic = monotonic
        self.every_s = every_s
        self._idle: dict[int, Availability] = {}
        self._checked: dict[int, float] = {}

    def current(self, campaign_id: int) -> dict[str, Any] | None:
        """Why nobody of the campaign can be called now (Availability.view), or None while
        calls go out (or before the dialer found nobody to call)."""
        found = self._idle.get(campaign_id)
        return None if found is None else found.view()

    async def nothing_to_dial(self, campaign: Campaign) -> Availability | None:
        """The dialer found nobody to call for the campaign's ready volunteers: count the
        voters again unless that was done in the last ``every_s`` seconds; publishes a
        change. Returns the new answer, None when it was not counted again."""
        clock = self.monotonic()
        last = self._checked.get(campaign.id)
        if last is not None and clock - last < self.every_s:
            return None
        self._checked[campaign.id] = clock
        found = await self.check(campaign)
        if not found.idle:
            await self._clear(campaign.id)  # someone is callable: the next claim takes them
            return found
        before = self._idle.get(campaign.id)
        self._idle[campaign.id] = found
        if before is None or before.message != found.message or before.counts != found.counts:
            log.info("campaign %d: nobody to call: %s", campaign.id, found.message)
            await self._publish(campaign.id, found)
        return found

    async def check(self, campaign: Campaign) -> Availability:
        """Count the campaign's voters now and explain (no event)."""
        now = self.clock()
        tallies = await self.store.voter_tallies(campaign.id, now, campaign.max_attempts)
        zones: Counter[str] = Counter()
        for tally in tallies:
            zones[tally.zone] += tally.count
        open_zones = zones_open_now(campaign.calling_hours_start, campaign.calling_hours_end, now)
        return explain(campaign, tallies, self.zone_of(campaign, zones), now, open_zones)

    async def dialing(self, campaign_id: int) -> None:
        """Calls of the campaign go out again: take the explanation down."""
        self._checked.pop(campaign_id, None)
        await self._clear(campaign_id)

    async def _clear(self, campaign_id: int) -> None:
        if self._idle.pop(campaign_id, None) is not None:
            log.info("campaign %d: calling again", campaign_id)
            await self._publish(campaign_id, None)

    def keep_only(self, campaign_ids: set[int]) -> None:
        """Forget the campaigns nobody is signed in to any more (their next volunteer gets
        a fresh count)."""
        for campaign_id in set(self._checked) - campaign_ids:
            self._checked.pop(campaign_id, None)
        for campaign_id in set(self._idle) - campaign_ids:
            self._idle.pop(campaign_id, None)

    async def _publish(self, campaign_id: int, found: Availability | None) -> None:
        view = found.view() if found is not None else _calling()
        event: AvailabilityEvent = {
            "type": "availability",
            "campaign_id": campaign_id,
            "idle": view["idle"],
            "reason": view["reason"],
            "message": view["message"],
            "resumes_at": view["resumes_at"],
            "counts": view["counts"],
        }
        sessions = await self.store.live_sessions(campaign_id)
        self.notifier.publish_to_sessions(campaign_id, [s.id for s in sessions], event)


def _calling() -> dict[str, Any]:
    return {"idle": False, "reason": None, "message": "", "resumes_at": None, "counts": {}}
