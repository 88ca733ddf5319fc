"""A cold start: many volunteers ready at once on a campaign that has learned nothing.

`LearningCampaign` (bench/pacing/learning_sim.py) is the simulated campaign learning as the
engine does (engine/dialer/campaign_pacing.py), here starting from nothing: the reference
model (10 % contacts) while the list may answer far more often.

.venv/bin/python -m bench.pacing.cold_start [--volunteers N] [--minutes M] [--seeds S]
"""

from __future__ import annotations

import argparse

from bench.pacing.learning_sim import PREDICTIVE, LearningCampaign
from bench.pacing.sim import Params, RunResult

__all__ = ["PREDICTIVE", "LearningCampaign", "cold_start"]


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
