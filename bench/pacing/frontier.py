"""What the predictive policy can trade, and what it would need to know to meet the targets.

.venv/bin/python -m bench.pacing.frontier [--hours H] [--seeds S] [--jobs J]

The pacing table (python -m bench.pacing) runs each policy as the engine does: θ steered to
the 2.7 % aim. Here θ is held fixed instead (no steering, no guard), over a grid, so each θ
gives one point (abandon %, contacts per volunteer-hour) of the trade-off the policy can
make; contacts at 2.7 % and 3 % abandons are interpolated between the points. Two informed
variants of the same policy show where the idle time comes from. Neither can exist in a
dialer; they bound what better estimates could buy:

- knows-free: told the moment each volunteer will be free (talk and wrap-up drawn in
  advance), instead of estimating it from how long they have been talking;
- knows-calls: told which calls in flight a person will answer, and when.

Only 10 % contacts and the sizes whose targets the steered policy misses; 8 simulated hours
x 2 seeds per point by default (about 5 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import multiprocessing
import time
from dataclasses import dataclass

from bench.pacing.sim import ABANDON_AFTER_S, FREE, VERDICT, Campaign, Params, RunResult, draw
from engine.dialer.pacing.base import Pacing, PacingState
from engine.dialer.pacing.policies import PredictivePacing, everyone_on_the_way

VOLUNTEERS = (10, 20, 50, 100)
TARGETS = {10: 27.0, 20: 29.5, 50: 32.0, 100: 33.0}
"""The issue's contacts per volunteer-hour at 10 % contacts."""
THETAS = {
    "policy": (0.02, 0.04, 0.08, 0.16, 0.3, 0.5),
    "knows-free": (0.01, 0.02, 0.04, 0.08, 0.16, 0.3),
    "knows-calls": (0.02, 0.04, 0.08, 0.16, 0.3, 0.5),
}
ABANDON_LEVELS = (2.7, 3.0)


@dataclass
class FixedTheta(PredictivePacing):
    """The predictive policy with θ held at `fixed` (the engine steers it instead)."""

    fixed: float = 0.05

    def theta(self, state: PacingState) -> float:
        return self.fixed


class InformedCampaign(Campaign):
    """The simulated campaign, also recording when each volunteer will be free and when
    each person's verdict will come (the informed variants read these)."""

    def __init__(self, policy: Pacing, p: Params, n: int, hours: float, seed: int) -> None:
        super().__init__(policy, p, n, hours, seed)
        self.free_at: dict[int, float] = {}
        self.verdict_at: dict[int, float] = {}

    def push(self, t: float, kind: int, ref: int) -> None:
        if kind == VERDICT:
            self.verdict_at[ref] = t
        elif kind == FREE and ref in self.talking:
            # The talk ends at t; draw the wrap-up now so the free moment is known.
            self.free_at[ref] = t + draw(self.rng, self.p.wrap_up)
        elif kind == FREE and ref in self.wrapping:
            t = self.free_at[ref]
        super().push(t, kind, ref)

    def person(self, t: float, call: int) -> None:
        self.verdict_at.pop(call, None)
        super().person(t, call)

    def volunteer_free(self, t: float, volunteer: int) -> None:
        super().volunteer_free(t, volunteer)
        if volunteer not in self.talking and volunteer not in self.wrapping:
            self.free_at.pop(volunteer, None)


@dataclass
class InformedPacing(FixedTheta):
    """FixedTheta, with exact counts in place of one of its estimates."""

    knows: str = ""
    world: InformedCampaign | None = None

    def _supply_and_demand(self, state: PacingState) -> tuple[list[float], list[float]]:
        free, first = super()._supply_and_demand(state)
        assert self.world is not None
        verdicts = self._tables.verdict_s
        q = len(verdicts)
        if self.knows == "knows-free":
            frees = sorted(at - state.now for at in self.world.free_at.values())
            for i, v in enumerate(verdicts):
                free[i] = state.ready_volunteers + bisect.bisect_right(frees, v + ABANDON_AFTER_S)
                free[q + i] = 0.0
        elif self.knows == "knows-calls":
            persons = sorted(at - state.now for at in self.world.verdict_at.values())
            waiting = self._waiting_served(state)
            exact = [waiting + bisect.bisect_right(persons, v) for v in verdicts]
            first = everyone_on_the_way(exact + [0.0] * q, q)
        return free, first


def run_one(job: tuple[str, int, float, float, int]) -> tuple[str, int, float, RunResult]:
    variant, n, theta, hours, seed = job
    p = Params()
    seed = seed * 1_000_003 + n * 101 + 10
    if variant == "policy":
        out = Campaign(FixedTheta(p.model(), fixed=theta), p, n, hours, seed).run()
        return variant, n, theta, out
    policy = InformedPacing(p.model(), fixed=theta, knows=variant)
    world = InformedCampaign(policy, p, n, hours, seed)
    policy.world = world
    return variant, n, theta, world.run()


def at_abandon(points: list[tuple[float, float]], level: float) -> str:
    """Contacts per volunteer-hour at `level` % abandons, interpolated between the points
    (abandon %, contacts); "< x" or "> x" when the grid does not reach it."""
    points = sorted(points)
    if level < points[0][0]:
        return f"< {points[0][1]:.1f}"
    if level > points[-1][0]:
        return f"> {points[-1][1]:.1f}"
    for (a0, c0), (a1, c1) in itertools.pairwise(points):
        if a0 <= level <= a1:
            share = 0.0 if a1 == a0 else (level - a0) / (a1 - a0)
            return f"{c0 + share * (c1 - c0):.1f}"
    return "n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    jobs = [
        (variant, n, theta, args.hours, seed)
        for variant, thetas in THETAS.items()
        for n in VOLUNTEERS
        for theta in thetas
        for seed in range(args.seeds)
    ]
    jobs.sort(key=lambda j: -j[1])
    started = time.monotonic()
    with multiprocessing.Pool(args.jobs) as pool:
        results = pool.map(run_one, jobs, chunksize=1)
    print(f"{args.hours:g} simulated hours x {args.seeds} seed(s) per point; ", end="")
    print(f"{time.monotonic() - started:.0f} s wall on {args.jobs} process(es)\n")
    points: dict[tuple[str, int], list[tuple[float, float]]] = {}
    print("| N | variant | θ | abandon % | contacts/vol-h | wait mean s |")
    print("|---|---|---|---|---|---|")
    for variant, thetas in THETAS.items():
        for n in VOLUNTEERS:
            for theta in thetas:
                runs = [r for v, nn, th, r in results if (v, nn, th) == (variant, n, theta)]
                contacts = sum(r.contacts for r in runs)
                live = sum(r.live_answers for r in runs)
                abandon = 100.0 * sum(r.abandons for r in runs) / live if live else 0.0
                cph = contacts / sum(r.volunteers * r.hours for r in runs)
                waits = [w for r in runs for w in r.waits]
                wait = sum(waits) / len(waits) if waits else 0.0
                points.setdefault((variant, n), []).append((abandon, cph))
                print(f"| {n} | {variant} | {theta:g} | {abandon:.2f} | {cph:.2f} | {wait:.1f} |")
    print("\nContacts per volunteer-hour at a given pooled abandon rate (interpolated):\n")
    head = " | ".join(f"{v} at {a:g} %" for v in THETAS for a in ABANDON_LEVELS)
    print(f"| N | target | {head} |")
    print("|---|---|" + "---|" * (len(THETAS) * len(ABANDON_LEVELS)))
    for n in VOLUNTEERS:
        cells = " | ".join(at_abandon(points[(v, n)], a) for v in THETAS for a in ABANDON_LEVELS)
        print(f"| {n} | {TARGETS[n]:g} | {cells} |")


if __name__ == "__main__":
    main()
