"""The half-hour guard's variants (issue 15), told the truth, in the drifting worlds and the
fixed 10 % and 20 % worlds: contacts per volunteer-hour, pooled abandons and the worst
30-minute window of any run, per variant and team size (docs/performance.md quotes it).

.venv/bin/python -m bench.pacing.guards [--volunteers 10,20] [--seeds 4] [--jobs 2]
                                        [--worlds step,smooth,0.1,0.2]

Variants: `none` (the 30-day steering alone); `cap M` (a hard cap: the lines beyond one per
volunteer may abandon no more than the half hour's budget less M allows, as the 30-day
`AbandonGuard` does for its budget); `theta M G` (θ cut by exp(G × budget) while the half
hour's budget less M is short: the campaign setting, engine/dialer/pacing/half_hour.py,
with M = 8 and G = 2).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import time
from dataclasses import dataclass, replace

from bench.pacing.learning_sim import PREDICTIVE
from bench.pacing.sim import Campaign, Params
from bench.pacing.worlds import params
from engine.dialer.campaign_pacing import LEARN_EVERY_S
from engine.dialer.modes import pacing_for
from engine.dialer.pacing.base import CONTACT_RATE_FLOOR, AbandonGuard, Pacing, PacingState
from engine.dialer.pacing.half_hour import HALF_HOUR_LIMIT, half_hour_budget
from engine.dialer.pacing.model import PacingModel

Variant = tuple[str, float, float]
"""(kind: none, cap or theta; margin in abandons; gain)."""
VARIANTS: tuple[Variant, ...] = (
    ("none", 0.0, 0.0),
    ("cap", 1.0, 0.0),
    ("theta", 1.0, 0.5),
    ("theta", 4.0, 2.0),
    ("theta", 6.0, 2.0),
    ("theta", 8.0, 2.0),
)


@dataclass(frozen=True)
class HalfHourCap:
    """The hard-cap variant: lines beyond one per volunteer signed in are potential abandons
    (at `contact_rate`), and may not exceed the half hour's budget; one line per ready
    volunteer once it is spent."""

    inner: Pacing
    contact_rate: float
    margin: float

    def calls_to_place(self, state: PacingState) -> int:
        rate = max(CONTACT_RATE_FLOOR, self.contact_rate)
        lines = state.in_flight + state.connecting
        budget = half_hour_budget(
            state.window_live_answers,
            state.window_abandons,
            rate * state.in_flight,
            HALF_HOUR_LIMIT,
            self.margin,
        )
        if budget <= 0.0:
            cap = state.ready_volunteers - lines
        else:
            volunteers = (
                state.ready_volunteers + len(state.talking_elapsed) + len(state.wrap_up_elapsed)
            )
            cap = volunteers + math.floor(budget / rate + 1e-9) - lines
        return max(0, min(self.inner.calls_to_place(state), cap))


def build(variant: Variant, model: PacingModel) -> Pacing:
    kind, margin, gain = variant
    policy = pacing_for(PREDICTIVE, model)
    if kind == "cap":
        return HalfHourCap(policy, model.person_rate, margin)
    if kind == "theta":
        assert isinstance(policy, AbandonGuard)
        inner = replace(
            policy.inner,  # type: ignore[type-var]
            window_limit=HALF_HOUR_LIMIT,
            window_margin=margin,
            window_gain=gain,
        )
        return AbandonGuard(inner)
    return policy


class GuardedTruth(Campaign):
    """Told the world's current contact rate (as `TrueDrift`), with a guard variant."""

    def __init__(self, variant: Variant, p: Params, n: int, hours: float, seed: int) -> None:
        super().__init__(build(variant, p.model()), p, n, hours, seed)
        self.variant, self.rate, self.checked_at = variant, p.contact_rate, 0.0

    def decide(self, t: float) -> None:
        if t - self.checked_at >= LEARN_EVERY_S:
            self.checked_at = t
            rate = round(self.p.rate_at(t), 4)
            if abs(rate - self.rate) > 0.002:
                self.rate = rate
                self.policy = build(self.variant, replace(self.p.model(), person_rate=rate))
        super().decide(t)


Job = tuple[Variant, int, str, int]
Outcome = tuple[Job, int, float, int, int, float]
"""(job, contacts, volunteer-hours, abandons, live answers, worst 30-minute window)."""


def run(job: Job) -> Outcome:
    variant, n, world, seed = job
    p = params(world)
    r = GuardedTruth(variant, p, n, 8.0, seed * 1_000_003 + n * 101 + int(p.contact_rate * 100))
    out = r.run()
    return job, out.contacts, n * 8.0, out.abandons, out.live_answers, out.worst_window()


def label(variant: Variant) -> str:
    kind, margin, gain = variant
    return {"none": "none", "cap": f"cap, margin {margin:g}"}.get(
        kind, f"θ cut, margin {margin:g}, gain {gain:g}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--volunteers", default="10,20", help="team sizes, e.g. 5,10,20,50")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--worlds", default="step,smooth,0.1,0.2")
    args = ap.parse_args()
    sizes = [int(n) for n in args.volunteers.split(",")]
    worlds = args.worlds.split(",")
    jobs = [
        (v, n, w, s) for v in VARIANTS for n in sizes for w in worlds for s in range(args.seeds)
    ]
    started = time.monotonic()
    with multiprocessing.Pool(args.jobs) as pool:
        outcomes = pool.map(run, sorted(jobs, key=lambda j: -j[1]), chunksize=1)
    print(f"8 simulated hours x {args.seeds} seeds; {time.monotonic() - started:.0f} s wall\n")
    print("| guard | N | " + " | ".join(worlds) + " |")
    print("|---|---|" + "---|" * len(worlds))
    for variant in VARIANTS:
        for n in sizes:
            cells = []
            for world in worlds:
                runs = [o for o in outcomes if o[0][:3] == (variant, n, world)]
                cph = sum(o[1] for o in runs) / sum(o[2] for o in runs)
                pooled = 100.0 * sum(o[3] for o in runs) / max(1, sum(o[4] for o in runs))
                worst = 100.0 * max(o[5] for o in runs)
                cells.append(f"{cph:.1f}, {pooled:.2f} %, worst {worst:.2f} %")
            print(f"| {label(variant)} | {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
