"""Print the pacing tables (issue 15): every policy, N volunteers x contact rate, pooled over
seeds, the predictive campaign told the true world and learning it as the engine does (cold
and warm-started); the drifting worlds; small teams; the learning window's trade-off.

.venv/bin/python -m bench.pacing [--quick] [--hours H] [--seeds S] [--jobs J] [--true-model]
                                 [--no-drift] [--drift-only] [--no-small] [--drift-seeds S]
                                 [--windows]
                                 [--volunteers 5,10] [--drift-volunteers 10,20]
                                 [--drift-policies "learning cold"] [--no-guard]

The predictive rows run with a new campaign's default settings: the half-hour guard on.
"predictive, no guard" (told the truth, guard off) is always in the main table; --no-guard
adds the learning campaign and the drifting worlds with the guard off too.
The window sweep (--windows) is left out by default to keep the run near 10 minutes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

from bench.pacing.report import DRIFT_POLICIES, print_drift, print_small, print_table, print_windows
from bench.pacing.worlds import NO_GUARD, Job, Row, run_job
from engine.dialer.pacing.placed import WINDOW_S

VOLUNTEERS = (1, 5, 10, 20, 50, 100)
SMALL = (2, 3, 4)
CONTACT_RATES = ("0.1", "0.2")
POLICIES = (
    "manual",
    "power-1",
    "power-3",
    "vicidial",
    "predictive",
    "predictive, no guard",
    "learning",
    "oracle",
)
DRIFT_VOLUNTEERS = (10, 20, 50, 100)

WINDOWS = (600.0, 1800.0, 3600.0)
WINDOW_VOLUNTEERS = (20, 100)


def jobs_for(args: argparse.Namespace, hours: float, seeds: int) -> list[Job]:
    policies = [p for p in POLICIES if not (args.true_model and p == "learning")]
    if args.no_guard and not args.true_model:
        policies.append("learning" + NO_GUARD)
    drift_policies = list(args.drift_policies)
    if args.no_guard:
        drift_policies += [p + NO_GUARD for p in args.drift_policies if NO_GUARD not in p]
    jobs: list[Job] = [
        (name, n, rate, hours, seed, WINDOW_S)
        for rate in CONTACT_RATES
        for n in args.volunteers
        for name in policies
        for seed in range(seeds)
    ]
    if not args.no_small:
        jobs += [
            (name, n, rate, hours, seed, WINDOW_S)
            for rate in CONTACT_RATES
            for n in SMALL
            for name in ("manual", "power-1", "predictive", "learning")
            for seed in range(seeds)
        ]
    drift_seeds = min(seeds, args.drift_seeds)
    if not args.no_drift or args.windows:
        jobs += [
            (name, n, world, hours, seed, WINDOW_S)
            for world in ("step", "smooth")
            for n in args.drift_volunteers
            for name in drift_policies
            for seed in range(drift_seeds)
        ]
    if args.windows:
        jobs += [
            ("learning cold", n, "step", hours, seed, window)
            for n in WINDOW_VOLUNTEERS
            for window in WINDOWS
            if window != WINDOW_S
            for seed in range(drift_seeds)
        ]
    return jobs


def cost(job: Job) -> float:
    """Longest first, so the pool's last jobs are short."""
    name, n = job[0], job[1]
    return n * (12 if name.removesuffix(NO_GUARD) == "learning" else 6 if "learning" in name else 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="2 simulated hours, 1 seed")
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--true-model", action="store_true", help="predictive told the truth only")
    ap.add_argument("--no-drift", action="store_true", help="leave out the drifting worlds")
    ap.add_argument(
        "--drift-only", action="store_true", help="only the drifting worlds (and --windows)"
    )
    ap.add_argument("--no-small", action="store_true", help="leave out 2 to 4 volunteers")
    ap.add_argument("--drift-seeds", type=int, default=2, help="seeds of the drifting worlds")
    ap.add_argument("--windows", action="store_true", help="add the learning window sweep")
    ap.add_argument(
        "--no-guard",
        action="store_true",
        help="also run learning and the drifting worlds with the half-hour guard off",
    )
    ap.add_argument(
        "--drift-volunteers",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=DRIFT_VOLUNTEERS,
        help="team sizes of the drifting worlds (default: 10,20,50,100)",
    )
    ap.add_argument(
        "--drift-policies",
        type=lambda text: tuple(name.strip() for name in text.split(";")),
        default=DRIFT_POLICIES,
        help='drift policies, separated by ";" (default: "told the truth; learning cold")',
    )
    ap.add_argument(
        "--volunteers",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=VOLUNTEERS,
        help="team sizes of the main table, e.g. 5,10 (default: 1,5,10,20,50,100)",
    )
    args = ap.parse_args()
    if args.true_model:
        args.no_drift, args.no_small, args.windows = True, True, False
    if args.drift_only:
        args.volunteers, args.no_small, args.no_drift = (), True, False
    hours, seeds = (2.0, 1) if args.quick else (args.hours, args.seeds)
    jobs = sorted(jobs_for(args, hours, seeds), key=cost, reverse=True)
    started = time.monotonic()
    with multiprocessing.Pool(args.jobs) as pool:
        rows: list[Row] = [row for rows in pool.map(run_job, jobs, chunksize=1) for row in rows]
    print(f"{hours:g} simulated hours x {seeds} seed(s) per cell; ", end="")
    print(f"{time.monotonic() - started:.0f} s wall on {args.jobs} process(es)\n")
    if args.volunteers:
        print_table(rows, CONTACT_RATES, args.volunteers)
    if not args.no_small:
        print_small(rows, CONTACT_RATES, (1, *SMALL))
    if not args.no_drift or args.windows:
        print_drift(rows, args.drift_volunteers)
    if args.windows:
        print_windows(rows, WINDOW_VOLUNTEERS, WINDOWS)


if __name__ == "__main__":
    main()
