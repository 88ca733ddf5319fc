"""A cold start: many volunteers ready at once on a campaign that has learned nothing.

`LearningCampaign` is the simulated campaign with its pacing rebuilt from what it has learned
every 10 s, as the engine does (engine/dialer/campaign_pacing.py), starting from nothing:
the reference model (10 % contacts) while the list may answer far more often.

.venv/bin/python -m bench.pacing.cold_start [--volunteers N] [--minutes M] [--seeds S]
"""

from __future__ import annotations

import argparse

from bench.pacing.sim import FAILING, MACHINE, NO_ANSWER, PERSON, Campaign, Params, RunResult
from engine.dialer.modes import pacing_for
from engine.dialer.pacing.learning import FAILED, Learned
from engine.dialer.pacing.learning import MACHINE as LEARNED_MACHINE
from engine.dialer.pacing.learning import NO_ANSWER as LEARNED_NO_ANSWER
from engine.dialer.pacing.learning import PERSON as LEARNED_PERSON
from engine.models import Campaign as CampaignSettings
from engine.models import DialMode

LEARN_EVERY_S = 10.0
_LEARNED_KIND = {
    PERSON: LEARNED_PERSON,
    MACHINE: LEARNED_MACHINE,
    NO_ANSWER: LEARNED_NO_ANSWER,
    FAILING: FAILED,
}
PREDICTIVE = CampaignSettings(id=1, name="cold start", dial_mode=DialMode.PREDICTIVE)


class LearningCampaign(Campaign):
    def __init__(
        self, settings: CampaignSettings, p: Params, n: int, hours: float, seed: int
    ) -> None:
        self.settings = settings
        self.learned = Learned()
        self.model = self.learned.model(p.ring_out_s)
        super().__init__(pacing_for(settings, self.model), p, n, hours, seed)
        self.learned_at = 0.0

    def learn(self, kind: int) -> None:
        super().learn(kind)
        self.learned.outcomes.append(_LEARNED_KIND[kind])

    def decide(self, t: float) -> None:
        if t - self.learned_at >= LEARN_EVERY_S:
            self.learned_at = t
            model = self.learned.model(self.p.ring_out_s)
            if model != self.model:
                self.model, self.policy = model, pacing_for(self.settings, model)
        super().decide(t)


def cold_start(
    contact_rate: float, volunteers: int, minutes: float, seed: int
) -> tuple[list[int], RunResult]:
    """The first decisions (calls placed by each, zeros left out) and the run's result."""
    world = LearningCampaign(
        PREDICTIVE, Params(contact_rate=contact_rate), volunteers, minutes / 60.0, seed
    )
    out = world.run()
    return [d for d in world.decisions if d], out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--volunteers", type=int, default=40)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    print("| contact | seed | first decisions | live answers | abandons | abandon % | contacts |")
    print("|---|---|---|---|---|---|---|")
    for rate in (0.10, 0.30, 0.50):
        for seed in range(args.seeds):
            decisions, out = cold_start(rate, args.volunteers, args.minutes, seed)
            print(
                f"| {rate:.0%} | {seed} | {decisions[:4]} | {out.live_answers} "
                f"| {out.abandons} | {100 * out.abandon_rate:.1f} | {out.contacts} |"
            )


if __name__ == "__main__":
    main()
