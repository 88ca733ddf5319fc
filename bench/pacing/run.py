"""Print the pacing table: every policy, N volunteers x contact rate, pooled over seeds.

.venv/bin/python -m bench.pacing [--quick] [--hours H] [--seeds S] [--jobs J]
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

from bench.pacing.sim import (
    Params,
    RunResult,
    simulate,
    simulate_manual,
    simulate_oracle,
)
from engine.dialer.modes import pacing_for
from engine.dialer.pacing.base import Pacing
from engine.models import Campaign, DialMode

VOLUNTEERS = (1, 5, 10, 20, 50, 100)
CONTACT_RATES = (0.10, 0.20)
POLICIES = ("manual", "power-1", "power-3", "vicidial", "predictive", "oracle")


CAMPAIGNS = {
    "power-1": Campaign(id=1, name="power-1", dial_mode=DialMode.POWER, lines_per_volunteer=1),
    "power-3": Campaign(id=1, name="power-3", dial_mode=DialMode.POWER, lines_per_volunteer=3),
    "vicidial": Campaign(id=1, name="vicidial", dial_mode=DialMode.ADAPTIVE),
    "predictive": Campaign(id=1, name="predictive", dial_mode=DialMode.PREDICTIVE),
}
"""Each simulated policy as a campaign with the default settings of its dial mode: the
engine builds its pacing from these with the same `pacing_for` (abandon guard included)."""


def policy(name: str, p: Params) -> Pacing:
    """The pacing the engine would run for this campaign, having learned the true world."""
    return pacing_for(CAMPAIGNS[name], p.model())


def run_one(job: tuple[str, int, float, float, int]) -> tuple[str, int, float, RunResult]:
    name, n, rate, hours, seed = job
    p = Params(contact_rate=rate)
    seed = seed * 1_000_003 + n * 101 + int(rate * 100)
    if name == "manual":
        out = simulate_manual(p, n, hours, seed)
    elif name == "oracle":
        out = simulate_oracle(p, n, hours, seed)
    else:
        out = simulate(policy(name, p), p, n, hours, seed)
    return name, n, rate, out


def p95(xs: list[float]) -> float:
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, int(0.95 * len(s)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="2 simulated hours, 1 seed")
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    hours, seeds = (2.0, 1) if args.quick else (args.hours, args.seeds)
    jobs = [
        (name, n, rate, hours, seed)
        for rate in CONTACT_RATES
        for n in VOLUNTEERS
        for name in POLICIES
        for seed in range(seeds)
    ]
    jobs.sort(key=lambda j: -j[1] * (5 if j[0] == "predictive" else 1))
    started = time.monotonic()
    with multiprocessing.Pool(args.jobs) as pool:
        results = pool.map(run_one, jobs, chunksize=1)
    print(f"{hours:g} simulated hours x {seeds} seed(s) per cell; ", end="")
    print(f"{time.monotonic() - started:.0f} s wall on {args.jobs} process(es)\n")
    print_table(results)


def print_table(results: list[tuple[str, int, float, RunResult]]) -> None:
    print(
        "| contact | N | policy | contacts/vol-h | occupancy | wait mean s | wait p95 s "
        "| abandon % | worst run % | calls/contact | share of oracle |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for rate in CONTACT_RATES:
        for n in VOLUNTEERS:
            cell = {
                name: [r for nm, nn, rr, r in results if (nm, nn, rr) == (name, n, rate)]
                for name in POLICIES
            }
            oracle = pooled(cell["oracle"])[0]
            for name in POLICIES:
                row = pooled(cell[name])
                cph, occ, wmean, wp95, ab, worst, cpc = row
                print(
                    f"| {rate:.0%} | {n} | {name} | {cph:.1f} | {occ:.0%} | {wmean:.0f} "
                    f"| {wp95:.0f} | {ab:.2f} | {worst:.2f} | {cpc:.1f} "
                    f"| {cph / oracle:.0%} |"
                )


def pooled(runs: list[RunResult]) -> tuple[float, float, float, float, float, float, float]:
    vol_h = sum(r.volunteers * r.hours for r in runs)
    contacts = sum(r.contacts for r in runs)
    waits = [w for r in runs for w in r.waits]
    live = sum(r.live_answers for r in runs)
    return (
        contacts / vol_h,
        sum(r.talk_s for r in runs) / (vol_h * 3600.0),
        sum(waits) / len(waits) if waits else 0.0,
        p95(waits),
        100.0 * sum(r.abandons for r in runs) / live if live else 0.0,
        100.0 * max(r.abandon_rate for r in runs),
        sum(r.calls for r in runs) / contacts if contacts else 0.0,
    )


if __name__ == "__main__":
    main()
