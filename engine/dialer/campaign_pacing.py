"""One campaign's pacing in the running engine: its policy object (kept between decisions,
since the adaptive and predictive policies remember), what it has learned from the calls it
placed (read from the store, saved back so a restart picks up where it left off), and the
abandon counts of the rolling 30 days its budget is measured against.

bench/pacing drives this very class, with a simulated store, at the same cadence."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from engine.dialer.modes import pacing_for
from engine.dialer.pacing.base import Pacing, PacingState
from engine.dialer.pacing.half_hour import HALF_HOUR_S
from engine.dialer.pacing.learning import Learned, moved
from engine.dialer.pacing.model import PacingModel
from engine.models import Attempt, Campaign

log = logging.getLogger(__name__)

LEARN_EVERY_S = 10.0
"""How often finished calls are read into what the campaign has learned."""
SAVE_EVERY_S = 60.0
"""How often what was learned is written to the store (and at shutdown)."""
ABANDON_WINDOW = timedelta(days=30)
HALF_HOUR = timedelta(seconds=HALF_HOUR_S)
BATCH = 5000
"""Attempts read at most per refresh (100 volunteers place ~10 calls a second)."""


class PacingStore(Protocol):
    """What campaign pacing reads and writes (engine/store/base.py `Store` has it all)."""

    async def abandon_counts(self, campaign_id: int, since: datetime) -> tuple[int, int]: ...
    async def placed_attempts(
        self, campaign_id: int, from_id: int, since: datetime, limit: int
    ) -> list[Attempt]: ...
    async def ended_attempts(
        self, campaign_id: int, ended_after: datetime | None, limit: int, after_id: int = 0
    ) -> list[Attempt]: ...
    async def wrap_ups(
        self, campaign_id: int, after_result_id: int, limit: int
    ) -> list[tuple[int, float]]: ...
    async def load_pacing(self, campaign_id: int) -> str | None: ...
    async def save_pacing(self, campaign_id: int, learned: str, now: datetime) -> None: ...


def _settings_key(campaign: Campaign) -> tuple[Any, ...]:
    return (
        campaign.dial_mode,
        campaign.lines_per_volunteer,
        campaign.max_lines_per_volunteer,
        campaign.abandon_target,
        campaign.half_hour_guard,
        campaign.ring_seconds,
    )


@dataclass
class CampaignPacing:
    campaign: Campaign
    learned: Learned
    model: PacingModel
    """What `policy` was built with: the learned model when it was last rebuilt."""
    policy: Pacing
    abandons: int = 0
    live_answers: int = 0
    window_abandons: int = 0
    """Abandons of the last half hour (read only with the campaign's half-hour guard)."""
    window_live_answers: int = 0
    last_decision: dict[str, Any] = field(default_factory=dict)
    _learned_at: float = 0.0
    _saved_at: float = field(default_factory=time.monotonic)
    _dirty: bool = False

    @classmethod
    async def load(cls, store: PacingStore, campaign: Campaign) -> CampaignPacing:
        """The campaign's pacing, with what was learned in earlier runs (a damaged record
        is logged and learning starts over)."""
        text = await store.load_pacing(campaign.id)
        learned = Learned()
        if text is not None:
            try:
                learned = Learned.from_json(text)
            except ValueError as error:
                log.warning("campaign %d: learned pacing unreadable (%s)", campaign.id, error)
        model = learned.model(campaign.ring_seconds)
        return cls(campaign, learned, model, pacing_for(campaign, model))

    def update_campaign(self, campaign: Campaign) -> None:
        """New settings rebuild the policy; the same settings keep it (and its memory)."""
        if _settings_key(campaign) != _settings_key(self.campaign):
            self.model = self._learned_model(campaign)
            self.policy = pacing_for(campaign, self.model)
        self.campaign = campaign

    async def refresh(self, store: PacingStore, now: datetime, force: bool = False) -> None:
        """Learn from the calls placed and ended since the last time, every LEARN_EVERY_S
        unless forced; save what was learned every SAVE_EVERY_S."""
        clock = time.monotonic()
        if clock - self._learned_at < LEARN_EVERY_S and not force:
            return
        self._learned_at = clock
        await self.learn(store, now)
        if self._dirty and clock - self._saved_at >= SAVE_EVERY_S:
            await self.save(store, now)

    async def learn(self, store: PacingStore, now: datetime) -> None:
        """Read the 30-day abandon counts (and the last half hour's, with the campaign's
        half-hour guard), the calls placed since the oldest one whose kind
        is not known yet (in progress or ended), newly ended calls and saved results; count
        the calls now old enough; rebuild a predictive policy if the rounded model moved."""
        campaign_id, learned = self.campaign.id, self.learned
        self.abandons, self.live_answers = await store.abandon_counts(
            campaign_id, now - ABANDON_WINDOW
        )
        if self.campaign.half_hour_guard:
            self.window_abandons, self.window_live_answers = await store.abandon_counts(
                campaign_id, now - HALF_HOUR
            )
        since = now - timedelta(seconds=learned.placed.window_s)
        placed = await store.placed_attempts(campaign_id, learned.placed.read_from(), since, BATCH)
        for attempt in placed:
            learned.see_placed(attempt)
        learned.advance(now, self.campaign.ring_seconds)
        ended = await store.ended_attempts(
            campaign_id, learned.ended_after, BATCH, learned.last_attempt_id
        )
        for attempt in ended:
            learned.observe_ended(attempt)
            learned.ended_after, learned.last_attempt_id = attempt.ended_at, attempt.id
        wrap_ups = await store.wrap_ups(campaign_id, learned.last_result_id, BATCH)
        for result_id, seconds in wrap_ups:
            learned.observe_wrap_up(seconds)
            learned.last_result_id = result_id
        self._dirty = self._dirty or bool(placed or ended or wrap_ups)
        if self.campaign.dial_mode == "predictive":
            await self._relearn()

    async def _relearn(self) -> None:
        """A predictive policy on the new model; its tables are built in a thread (tens of
        milliseconds) so calls being connected meanwhile are not held up. The model is
        rounded (engine/dialer/pacing/learning.py), so most refreshes reuse cached tables."""
        model = self._learned_model(self.campaign)
        if not moved(self.model, model):
            return
        self.policy = await asyncio.to_thread(pacing_for, self.campaign, model)
        self.model = model

    def _learned_model(self, campaign: Campaign) -> PacingModel:
        return self.learned.model(campaign.ring_seconds)

    async def save(self, store: PacingStore, now: datetime) -> None:
        if self._dirty:
            await store.save_pacing(self.campaign.id, self.learned.to_json(), now)
            self._dirty = False
        self._saved_at = time.monotonic()

    def decide(self, state: PacingState) -> int:
        """Ask the policy, with the 30-day abandon counts (and the half hour's), and the highest
        plausible contact rate filled in; remember the answer for the dashboard."""
        state = replace(
            state,
            live_answers=self.live_answers,
            abandons=self.abandons,
            contact_rate_high=self.learned.contact_rate_high(),
            window_live_answers=self.window_live_answers,
            window_abandons=self.window_abandons,
        )
        wanted = self.policy.calls_to_place(state)
        self.last_decision = {
            "ready": state.ready_volunteers,
            "talking": len(state.talking_elapsed),
            "wrap_up": len(state.wrap_up_elapsed),
            "ringing": len(state.ringing_elapsed),
            "in_amd": len(state.amd_elapsed),
            "waiting_for_volunteer": state.connecting,
            "wanted": wanted,
            "placed": 0,
            "contact_rate_high": round(100.0 * state.contact_rate_high, 1),
        }
        return wanted

    def placed(self, count: int) -> None:
        """How many calls the last decision really placed: fewer than it wanted when fewer
        voters could be called (issue 14 item 2: the dashboard never reports a call placed
        when none was)."""
        self.last_decision["placed"] = count

    def summary(self) -> dict[str, Any]:
        """What the dashboard and API show about this campaign's pacing."""
        return {
            "dial_mode": self.campaign.dial_mode,
            "last_decision": dict(self.last_decision),
            "learned": self.learned.summary(),
        }
