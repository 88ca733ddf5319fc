"""The simulated runs of the pacing table, one job each: the policies told the true world, the
predictive campaign learning as the engine does (cold, then warm-started from a previous
shift of the same world), and the drifting worlds (issue 15)."""

from __future__ import annotations

import math
from dataclasses import replace

from bench.pacing.learning_sim import PREDICTIVE, LearningCampaign
from bench.pacing.sim import Campaign, Params, RunResult, simulate, simulate_manual, simulate_oracle
from engine.dialer.campaign_pacing import LEARN_EVERY_S
from engine.dialer.modes import pacing_for
from engine.dialer.pacing.learning import Learned
from engine.dialer.pacing.placed import WINDOW_S
from engine.models import Campaign as CampaignSettings
from engine.models import DialMode

CAMPAIGNS = {
    "power-1": CampaignSettings(
        id=1, name="power-1", dial_mode=DialMode.POWER, lines_per_volunteer=1
    ),
    "power-3": CampaignSettings(
        id=1, name="power-3", dial_mode=DialMode.POWER, lines_per_volunteer=3
    ),
    "vicidial": CampaignSettings(id=1, name="vicidial", dial_mode=DialMode.ADAPTIVE),
    "predictive": PREDICTIVE,
}
"""Each simulated policy as a campaign with the default settings of its dial mode: the
engine builds its pacing from these with the same `pacing_for` (abandon guard included)."""

STEP = ((0.0, 0.10), (8 / 3, 0.10), (8 / 3, 0.20), (16 / 3, 0.20), (16 / 3, 0.05), (8.0, 0.05))
"""The step world: 10 % contacts, then 20 %, then 5 %, a third of the 8-hour shift each."""
SMOOTH = tuple((h / 4, round(0.12 - 0.05 * math.cos(2 * math.pi * h / 32), 4)) for h in range(33))
"""The smooth world: 7 % at the start and end of the shift, 17 % four hours in."""
WORLDS = {"step": STEP, "smooth": SMOOTH}

Job = tuple[str, int, str, float, int, float]
"""(policy, volunteers, world: a contact rate such as "0.1" or a WORLDS name, hours, seed,
learning window in seconds)."""
Row = tuple[str, int, str, RunResult]
"""(policy, volunteers, world, result)."""


def params(world: str) -> Params:
    if world in WORLDS:
        schedule = WORLDS[world]
        return Params(contact_rate=schedule[0][1], schedule=schedule)
    return Params(contact_rate=float(world))


UNGUARDED = replace(PREDICTIVE, half_hour_guard=False)
"""The predictive campaign with its half-hour guard (engine/dialer/pacing/half_hour.py) turned
off; the default settings (`PREDICTIVE`) have it on, as a new campaign does."""
NO_GUARD = ", no guard"
"""A policy name ending so runs the campaign with its half-hour guard off."""


class TrueDrift(Campaign):
    """The predictive campaign told the world's current contact rate: its policy rebuilt on the
    true model whenever the rate moved (checked as often as the engine relearns)."""

    def __init__(
        self, p: Params, n: int, hours: float, seed: int, settings: CampaignSettings = PREDICTIVE
    ) -> None:
        super().__init__(pacing_for(settings, p.model()), p, n, hours, seed)
        self.settings = settings
        self.rate, self.checked_at = p.contact_rate, 0.0

    def decide(self, t: float) -> None:
        if t - self.checked_at >= LEARN_EVERY_S:
            self.checked_at = t
            rate = round(self.p.rate_at(t), 4)
            if abs(rate - self.rate) > 0.002:
                self.rate = rate
                model = replace(self.p.model(), person_rate=rate)
                self.policy = pacing_for(self.settings, model)
        super().decide(t)


def run_job(job: Job) -> list[Row]:
    """One job's runs: most give one row; "learning" gives a cold shift and the next one,
    warm-started from what the first learned."""
    name, n, world, hours, seed, window = job
    settings = UNGUARDED if name.endswith(NO_GUARD) else PREDICTIVE
    p = params(world)
    seed = seed * 1_000_003 + n * 101 + int(p.contact_rate * 100)
    if name == "manual":
        return [(name, n, world, simulate_manual(p, n, hours, seed))]
    if name == "oracle":
        return [(name, n, world, simulate_oracle(p, n, hours, seed))]
    if name in ("learning", "learning" + NO_GUARD):
        first = LearningCampaign(settings, p, n, hours, seed, Learned.with_window(window))
        cold = first.run()
        learned = Learned.from_json(first.pacing.learned.to_json())  # saved at the shift's end
        warm = LearningCampaign(settings, p, n, hours, seed, learned, shift=1).run()
        label = "" if window == WINDOW_S else f" {window / 60:g} min"
        label += name.removeprefix("learning")
        return [
            (f"learning cold{label}", n, world, cold),
            (f"learning warm{label}", n, world, warm),
        ]
    if name.startswith("learning cold"):
        campaign = LearningCampaign(settings, p, n, hours, seed, Learned.with_window(window))
        label = "" if window == WINDOW_S else f" {window / 60:g} min"
        return [(name + label, n, world, campaign.run())]
    if name.startswith("told the truth"):
        return [(name, n, world, TrueDrift(p, n, hours, seed, settings).run())]
    settings = UNGUARDED if name == "predictive" + NO_GUARD else CAMPAIGNS[name]
    policy = pacing_for(settings, p.model())
    return [(name, n, world, simulate(policy, p, n, hours, seed))]
