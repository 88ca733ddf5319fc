"""The simulated campaign with the engine's own learning loop.

`LearningCampaign` keeps its pacing in the engine's `CampaignPacing`
(engine/dialer/campaign_pacing.py) and, every LEARN_EVERY_S of simulated time, awaits the very
`learn` the dialer loop runs: read the calls placed (in progress or ended), the ended calls and
the saved results from a store, count what is old enough, rebuild the predictive policy when
the rounded model moved. The store here is `SimStore`: the simulated calls as the engine's
store would hold them. Decisions go through `CampaignPacing.decide` (30-day abandon counts as
of the last refresh, the learned contact-rate ceiling).
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left, bisect_right
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bench.pacing.sim import FAILING, MACHINE, NO_ANSWER, Campaign, Params, RunResult
from engine.dialer.campaign_pacing import LEARN_EVERY_S, CampaignPacing
from engine.dialer.modes import pacing_for
from engine.dialer.pacing.learning import Learned
from engine.models import Attempt, CallOutcome, CallState, DialMode
from engine.models import Campaign as CampaignSettings

EPOCH = datetime(2026, 10, 1, 16, 0, tzinfo=UTC)
"""When the first simulated shift starts; shift k starts k days later."""
SHIFT_IDS = 10_000_000
"""Attempt and result ids of shift k start at k times this."""
PREDICTIVE = CampaignSettings(id=1, name="learning", dial_mode=DialMode.PREDICTIVE, ring_seconds=28)

_ENDED = {
    MACHINE: (CallOutcome.MACHINE, "MACHINE"),
    NO_ANSWER: (CallOutcome.NO_ANSWER, ""),
    FAILING: (CallOutcome.BUSY, ""),
}


class SimStore:
    """What the engine's store holds about one simulated campaign's calls, read as pacing
    reads it (engine/dialer/campaign_pacing.py `PacingStore`)."""

    def __init__(self, shift: int) -> None:
        self.epoch = EPOCH + timedelta(days=shift)
        self.first_id = SHIFT_IDS * shift + 1
        self.calls: list[Attempt | None] = []
        """Attempt `first_id + i` at index i (None once no read can reach it again)."""
        self.forgotten = 0
        self.ended: list[Attempt] = []
        self.ended_keys: list[tuple[datetime, int]] = []
        self.results: list[tuple[int, float]] = []
        self.answer_times: list[float] = []
        """When each live answer came (seconds into the shift, in order)."""
        self.abandon_times: list[float] = []
        self.saved: str | None = None

    def at(self, t: float) -> datetime:
        return self.epoch + timedelta(seconds=t)

    def update(self, call: int, **fields: object) -> None:
        attempt = self.calls[call]
        if attempt is not None:
            self.calls[call] = replace(attempt, **fields)  # type: ignore[arg-type]

    async def abandon_counts(self, campaign_id: int, since: datetime) -> tuple[int, int]:
        start = (since - self.epoch).total_seconds()
        live = len(self.answer_times) - bisect_left(self.answer_times, start)
        return len(self.abandon_times) - bisect_left(self.abandon_times, start), live

    async def placed_attempts(
        self, campaign_id: int, from_id: int, since: datetime, limit: int
    ) -> list[Attempt]:
        start = max(0, from_id - self.first_id)
        if from_id <= 0:
            start = next(
                (
                    i
                    for i, a in enumerate(self.calls)
                    if a and a.originated_at and a.originated_at >= since
                ),
                len(self.calls),
            )
        for i in range(self.forgotten, start):
            self.calls[i] = None  # pacing never reads below from_id again
        self.forgotten = max(self.forgotten, start)
        return [a for a in self.calls[start : start + limit] if a is not None]

    async def ended_attempts(
        self, campaign_id: int, ended_after: datetime | None, limit: int, after_id: int = 0
    ) -> list[Attempt]:
        start = 0 if ended_after is None else bisect_right(self.ended_keys, (ended_after, after_id))
        return self.ended[start : start + limit]

    async def wrap_ups(
        self, campaign_id: int, after_result_id: int, limit: int
    ) -> list[tuple[int, float]]:
        start = max(0, after_result_id - self.first_id + 1)
        return self.results[start : start + limit]

    async def load_pacing(self, campaign_id: int) -> str | None:
        return self.saved

    async def save_pacing(self, campaign_id: int, learned: str, now: datetime) -> None:
        self.saved = learned


class LearningCampaign(Campaign):
    """A simulated campaign whose pacing learns as the engine's does, from `learned` (a
    previous shift's, for a warm start) or from nothing."""

    def __init__(
        self,
        settings: CampaignSettings,
        p: Params,
        n: int,
        hours: float,
        seed: int,
        learned: Learned | None = None,
        shift: int = 0,
    ) -> None:
        learned = learned or Learned()
        model = learned.model(settings.ring_seconds)
        self.pacing = CampaignPacing(settings, learned, model, pacing_for(settings, model))
        super().__init__(self.pacing.policy, p, n, hours, seed)
        self.store = SimStore(shift)
        self.store.answer_times, self.store.abandon_times = (
            self.out.answer_times,
            self.out.abandon_times,
        )
        self.learned_at = -LEARN_EVERY_S
        self.loop = asyncio.new_event_loop()

    def run(self) -> RunResult:
        try:
            return super().run()
        finally:
            self.loop.close()

    def decide(self, t: float) -> None:
        if t - self.learned_at >= LEARN_EVERY_S:
            self.learned_at = t
            self.loop.run_until_complete(self.pacing.learn(self.store, self.store.at(t)))
        placed = self.pacing.decide(self.state(t))
        self.decisions.append(placed)
        for _ in range(placed):
            self.place(t)

    def placed(self, t: float, call: int) -> None:
        store = self.store
        store.calls.append(
            Attempt(
                id=store.first_id + call,
                campaign_id=1,
                voter_id=call,
                phone="",
                state=CallState.DIALING,
                claimed_at=store.at(t),
                originated_at=store.at(t),
            )
        )

    def answered(self, t: float, call: int) -> None:
        self.store.update(call, answered_at=self.store.at(t))

    def verdict(self, t: float, call: int) -> None:
        when = self.store.at(t)
        self.store.update(call, state=CallState.CONNECTING, amd_verdict="HUMAN", amd_at=when)

    def ended(self, t: float, call: int, kind: int) -> None:
        outcome, verdict = _ENDED[kind]
        when = self.store.at(t)
        self.store.update(
            call,
            state=CallState.ENDED,
            outcome=outcome,
            amd_verdict=verdict,
            amd_at=when if verdict else None,
            ended_at=when,
        )

    def talked(self, t: float, since: float) -> None:
        store = self.store
        ended = Attempt(
            id=store.first_id + len(store.ended),
            campaign_id=1,
            voter_id=0,
            phone="",
            state=CallState.ENDED,
            amd_verdict="HUMAN",
            bridged_at=store.at(since),
            ended_at=store.at(t),
            outcome=CallOutcome.CONTACT,
        )
        store.ended.append(ended)
        store.ended_keys.append((store.at(t), ended.id))

    def wrapped_up(self, t: float, since: float) -> None:
        self.store.results.append((self.store.first_id + len(self.store.results), t - since))
