"""Pacing on the real PBX pair, next to the simulator's prediction; and how many concurrent
calls the machine sustains.

Starts its own dialer PBX and carrier simulator, the engine and the web app (free ports). The
voter list follows the reference outcome mix (docs/performance.md, "Pacing simulator"): 10 %
people and 27 % answering machines who ring a while first (carrier behaviours 14 and 22, ring
time drawn from the reference answer-time distribution), the rest no-answer 65 % / busy 15 % /
disconnected 20 %. Simulated volunteers call in through the carrier simulator, talk for random
durations, wrap up and post their results through the HTTP API. After --minutes the bench
reads the engine's store and prints the live figures next to bench/pacing's simulation of the
same policy, volunteers, durations and length of shift (several seeds).

    .venv/bin/python bench/live_pacing.py [--minutes 10] [--volunteers 10] [--voters 1000]
        [--mode predictive|power] [--lines 3] [--talk-mean 90] [--wrap-mean 15] [--seed 1]

--capacity instead ramps concurrent calls (every voter a live person who talks until hung up,
one volunteer per call) in steps held --hold seconds each, and stops at the first step where
verdict → bridge p95 exceeds 50 ms, an AMD verdict is wrong, the volunteers hear no voice, RTP
loses packets or HUMAN verdicts slow down:

    .venv/bin/python bench/live_pacing.py --capacity [--steps 20,40,60,80,120,160,200] [--hold 60]
        [--amd-engine app_amd|streaming]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import phonenumbers

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.* when run as a script

from bench.live_figures import measure, print_comparison, simulate_same
from bench.live_support import (
    ApiVolunteer,
    Carrier,
    Clocks,
    ShiftSampler,
    carrier_link,
    unlimited_http,
    warn_if_busy,
)
from bench.pacing.sim import Params, draw
from engine.app import Engine
from engine.config import load_config
from engine.dialer.pacing.model import LogNormal
from engine.models import Campaign, VoterStatus
from testbed.pair import PbxPair, running_pair
from testbed.shift import make_campaign, running_engine
from web.app import run_web

AREA_CODES = ("202", "212", "312", "415", "617", "713", "305", "206")
NO_CALLS_TIMEOUT_S = 45.0
"""A shift that has placed no call by then is broken (e.g. a dial mode the engine lacks)."""


def unique_prefixes(count: int) -> list[str]:
    """`count` distinct valid US prefixes +1 NPA NXX: the carrier reads only the last four
    digits, so one prefix per voter makes every number unique whatever its behaviour."""
    prefixes = []
    for area in AREA_CODES:
        for exchange in range(200, 1000):
            prefix = f"+1{area}{exchange}"
            if phonenumbers.is_valid_number(phonenumbers.parse(prefix + "1000")):
                prefixes.append(prefix)
                if len(prefixes) == count:
                    return prefixes
    raise ValueError(f"only {len(prefixes)} distinct prefixes; ask for fewer voters")


def reference_rows(voters: int, p: Params, rng: random.Random) -> list[tuple[str, int]]:
    """(behaviour code, variant) per voter, in the reference mix, shuffled. People (14) and
    machines (22) ring for their variant's seconds: the answer time, rounded."""
    people = round(voters * p.contact_rate)
    machines = round(voters * p.machine_rate)
    rest = voters - people - machines
    no_answer = round(rest * p.no_answer)
    busy = round(rest * p.busy)
    rows = [("31", 0)] * no_answer + [("30", 0)] * busy + [("32", 0)] * (rest - no_answer - busy)
    for code, n in (("14", people), ("22", machines)):
        rows += [(code, round(draw(rng, p.answer_time))) for _ in range(n)]
    rng.shuffle(rows)
    return rows


def voter_list(rows: list[tuple[str, int]]) -> bytes:
    lines = ["first_name,last_name,phone,zip,precinct"]
    for n, ((code, variant), prefix) in enumerate(
        zip(rows, unique_prefixes(len(rows)), strict=True)
    ):
        lines.append(f"Voter{n},B{code}V{variant},{prefix}{code}{variant:02d},20001,P{n % 7}")
    return ("\n".join(lines) + "\n").encode()


def campaign_settings(args: argparse.Namespace) -> dict[str, object]:
    settings: dict[str, object] = {
        "ring_seconds": 28,
        "max_attempts": 1,
        "wrapup_seconds": 600,
        "dial_mode": args.mode,
        "lines_per_volunteer": args.lines,
        "max_lines_per_volunteer": args.max_lines,
    }
    return settings


async def sign_in_all(
    engine: Engine,
    pair: PbxPair,
    carrier: Carrier,
    http: aiohttp.ClientSession,
    url: str,
    campaign: Campaign,
    numbers: range,
    rng: random.Random,
    talk: LogNormal,
    wrap_up: LogNormal,
) -> list[ApiVolunteer]:
    """Sign volunteers in through the API and call their phones in, five at a time."""
    limit = asyncio.Semaphore(5)

    async def one(n: int) -> ApiVolunteer:
        async with limit:
            volunteer = await ApiVolunteer.sign_in(
                engine,
                http,
                url,
                campaign,
                n,
                rng,
                lambda r: draw(r, talk),
                lambda r: draw(r, wrap_up),
            )
            await volunteer.sim.call_in(pair, carrier)
            return volunteer

    return list(await asyncio.gather(*(one(n) for n in numbers)))


async def callable_left(engine: Engine, campaign: Campaign) -> int:
    counts = await engine.store.voter_counts(campaign.id)
    return counts.get(VoterStatus.PENDING, 0) + counts.get(VoterStatus.RETRY, 0)


async def live_check(pair: PbxPair, args: argparse.Namespace) -> None:
    await warn_if_busy()
    rng = random.Random(args.seed)
    p = dataclasses.replace(
        Params(), talk=LogNormal(args.talk_mean, 0.8), wrap_up=LogNormal(args.wrap_mean, 0.5)
    )
    csv = voter_list(reference_rows(args.voters, p, rng))
    cfg = load_config()
    tmp = Path(tempfile.mkdtemp(prefix="phonebank-live-"))
    async with (
        running_engine(pair, tmp / "live.db") as engine,
        run_web(engine, dataclasses.replace(cfg.web, port=0)) as url,
        carrier_link(pair) as carrier,
        unlimited_http() as http,
    ):
        campaign = await make_campaign(engine, csv, **campaign_settings(args))
        volunteers = await sign_in_all(
            engine,
            pair,
            carrier,
            http,
            url,
            campaign,
            range(args.volunteers),
            rng,
            p.talk,
            p.wrap_up,
        )
        sampler = ShiftSampler(engine, carrier[0])
        clocks = Clocks.read(pair)
        sampler.start()
        shifts = [asyncio.create_task(v.work(http)) for v in volunteers]
        exhausted = await run_shift(engine, campaign, shifts, clocks.wall, args)
        t_end = time.time()
        used = clocks.used(pair)
        for shift in shifts:
            shift.cancel()
        await asyncio.gather(*shifts, return_exceptions=True)
        await sampler.stop()
        live = await measure(engine, campaign, volunteers, sampler, clocks.wall, t_end, used)
        summary = getattr(engine.dialer, "pacing_summary", lambda _: None)(campaign.id)
    print(
        f"\nLive check: {args.mode} mode, {args.volunteers} volunteers, {args.voters} voters, "
        f"talk mean {args.talk_mean:g} s, wrap-up mean {args.wrap_mean:g} s, "
        f"{live.minutes:.1f} minutes" + (" (the voter list ran out)" if exhausted else "")
    )
    hours = (t_end - clocks.wall) / 3600.0
    print_comparison(live, simulate_same(campaign, p, args.volunteers, hours, args.sim_seeds))
    if summary:
        print(f"the engine's pacing at the end: {summary}")


async def run_shift(
    engine: Engine,
    campaign: Campaign,
    shifts: list[asyncio.Task[None]],
    t0: float,
    args: argparse.Namespace,
) -> bool:
    """Wait out the shift; True if the voter list ran out first. Raises what stopped a
    volunteer, or SystemExit when the engine places no calls at all."""
    placed = False
    while time.time() < t0 + 60.0 * args.minutes:
        await asyncio.sleep(1.0)
        for shift in shifts:
            if shift.done():
                shift.result()
                raise RuntimeError("a volunteer's shift ended early")
        placed = placed or bool(await engine.store.list_attempts(campaign.id))
        if not placed and time.time() - t0 > NO_CALLS_TIMEOUT_S:
            raise SystemExit(
                f"no call placed in {NO_CALLS_TIMEOUT_S:.0f} s: does this engine dial in "
                f"{args.mode!r} mode? (DIAL_MODES; the engine log says why)"
            )
        if await callable_left(engine, campaign) == 0:
            return True
    return False


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--volunteers", type=int, default=10)
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--mode", choices=("predictive", "power"), default="predictive")
    parser.add_argument("--lines", type=int, default=3, help="power mode: lines per volunteer")
    parser.add_argument("--max-lines", type=int, default=12, help="predictive: cap per volunteer")
    parser.add_argument("--talk-mean", type=float, default=90.0, help="seconds (CV 0.8)")
    parser.add_argument("--wrap-mean", type=float, default=15.0, help="seconds (CV 0.5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sim-seeds", type=int, default=20)
    parser.add_argument("--capacity", action="store_true", help="ramp concurrent calls instead")
    parser.add_argument(
        "--steps", default="20,40,60,80,120,160,200", help="capacity: calls per step"
    )
    parser.add_argument("--hold", type=float, default=60.0, help="capacity: seconds per step")
    parser.add_argument(
        "--amd-engine",
        choices=("app_amd", "streaming"),
        default="app_amd",
        help="capacity: the campaign's amd_engine (Asterisk's AMD() or the engine's detector)",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    with running_pair(load_config().pbx, f"bench-live-{os.getpid()}") as pair:
        if args.capacity:
            from bench.live_capacity import capacity

            asyncio.run(capacity(pair, args))
        else:
            asyncio.run(live_check(pair, args))


if __name__ == "__main__":
    main()
