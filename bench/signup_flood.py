"""A flood of anonymous sign-ups against the real web app while live calls are being bridged
on the real PBX pair: does the server stay responsive?

Starts its own dialer PBX and carrier simulator, the engine and the web app (free ports).
VOLUNTEERS simulated volunteers call in and take live-person calls (power dialing, as in
bench/engine_latency.py); once calls flow, FLOOD sign-ups are sent at once from many loopback
addresses (127.0.0.2, .3, ...) while /api/health is probed every 20 ms. Reported: /api/health
latency before and during the flood, verdict -> bridge latency of the calls bridged during the
flood, and how long the flood took. Targets: /api/health p99 <= 100 ms, verdict -> bridge
p95 <= 50 ms.

The flood is sent by a child process at a lower CPU priority, so its HTTP clients (which
stand for machines elsewhere) share neither the server's event loop nor, as far as the OS
allows, its cores. The sign-up limits and the hashing queue's ceiling are raised for the run
so that every sign-up really hashes a password (the defaults refuse most of such a flood
with a cheap 429: ``--default-limits`` keeps them). ``--inline`` hashes on the event loop
instead of the worker pool: the code path before the fix, for comparison.

    .venv/bin/python bench/signup_flood.py [--flood 300] [--volunteers 6] [--inline]
        [--default-limits]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
import tempfile
import time
from asyncio.subprocess import PIPE
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.* when run as a script

from bench.engine_latency import phone_volunteers, volunteer_loop
from bench.live_support import Carrier, carrier_link, percentile, report_ms, warn_if_busy
from engine.app import Engine
from engine.config import load_config
from engine.pbx.pair import PbxPair, running_pair
from engine.security.login_limits import SignupLimiter, SignupPolicy
from engine.security.password_hasher import PasswordHasher
from testbed.shift import make_campaign, running_engine, voters_csv
from testbed.waiting import wait_until
from web.app import run_web

ADDRESSES = 50
"""Loopback source addresses the flood comes from."""
PROBE_INTERVAL = 0.02
HEALTH_P99_TARGET_MS = 100.0
BRIDGE_P95_TARGET_MS = 50.0
WARM_UP_CALLS = 4
"""Calls bridged before the flood starts, so calls are in progress throughout."""


async def probe_health(url: str, stop: asyncio.Event) -> list[float]:
    """GET /api/health every PROBE_INTERVAL until ``stop``; each answer's latency (s)."""
    latencies = []
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            started = time.perf_counter()
            async with http.get(f"{url}/api/health") as response:
                await response.read()
                assert response.status == 200
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(PROBE_INTERVAL)  # the probe's pace
    return latencies


async def sign_up_from(url: str, address: str, people: range) -> list[int]:
    """POST /api/signup for each of ``people`` at once from ``address``; the statuses."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0), limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(n: int) -> int:
            body = {"name": f"Flood {n}", "email": f"flood{n}@example.org", "phone": "555-0100"}
            async with http.post(f"{url}/api/signup", json=body) as response:
                await response.read()
                return response.status

        return list(await asyncio.gather(*(one(n) for n in people)))


async def flood(url: str, size: int) -> tuple[list[int], float]:
    """``size`` sign-ups at once from a child process; the statuses and how long it took."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--flood-client", url, str(size), stdout=PIPE
    )
    out, _ = await child.communicate()
    result = json.loads(out)
    return result["statuses"], result["seconds"]


async def flood_client(url: str, size: int) -> tuple[list[int], float]:
    """``size`` sign-ups at once, spread over ADDRESSES loopback addresses."""
    started = time.perf_counter()
    batches = [range(a, size, ADDRESSES) for a in range(min(ADDRESSES, size))]
    results = await asyncio.gather(
        *(sign_up_from(url, f"127.0.0.{2 + a}", people) for a, people in enumerate(batches))
    )
    return [status for batch in results for status in batch], time.perf_counter() - started


async def volunteers_on_calls(
    engine: Engine, pair: PbxPair, url: str, carrier: Carrier, count: int, calls: int
) -> tuple[list[asyncio.Task[None]], asyncio.Event]:
    campaign = await make_campaign(
        engine, voters_csv([("10", v) for v in range(calls)]), dial_mode="power"
    )
    sims, tokens = await phone_volunteers(engine, pair, carrier, campaign.id, count)
    card_delays: list[float] = []
    done = asyncio.Event()
    loops = [
        asyncio.create_task(volunteer_loop(engine, url, s, t, card_delays, done))
        for s, t in zip(sims, tokens, strict=True)
    ]
    for sim in sims:
        await engine.volunteers.start_calling(sim.session.id)
    return loops, done


async def bench(
    pair: PbxPair, size: int, volunteers: int, inline: bool, default_limits: bool
) -> bool:
    cfg = load_config()
    tmp = Path(tempfile.mkdtemp(prefix="phonebank-bench-"))
    web_cfg = dataclasses.replace(cfg.web, port=0)
    async with (
        running_engine(pair, tmp / "bench.db") as engine,
        run_web(engine, web_cfg) as url,
        carrier_link(pair) as carrier,
    ):
        logins = engine.volunteers.logins
        if not default_limits:
            unlimited = SignupPolicy(per_address=10**6, per_minute=10**6)
            logins.signup_limiter = SignupLimiter(unlimited)
            logins.hasher = PasswordHasher(max_waiting=10**6)
        if inline:
            logins.hasher = PasswordHasher(inline=True)
        assert engine.telephony is not None
        bridged = engine.telephony.calls.bridge_latencies
        loops, done = await volunteers_on_calls(engine, pair, url, carrier, volunteers, 100)
        await wait_until(lambda: len(bridged) >= WARM_UP_CALLS, timeout=60, what="calls")
        stop = asyncio.Event()
        baseline = asyncio.create_task(probe_health(url, stop))
        await asyncio.sleep(3)  # three seconds of the baseline
        stop.set()
        before = await baseline
        stop = asyncio.Event()
        during = asyncio.create_task(probe_health(url, stop))
        first = len(bridged)
        statuses, took = await flood(url, size)
        stop.set()
        health = await during
        flood_bridges = bridged[first:]
        done.set()
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
    mode = "hashing on the event loop (before the fix)" if inline else "hashing in worker threads"
    limits = "default limits" if default_limits else "limits raised"
    print(f"{size} sign-ups at once from {min(ADDRESSES, size)} addresses, {mode}, {limits}:")
    counts = {s: statuses.count(s) for s in sorted(set(statuses))}
    print(f"  flood took {took:.1f} s; answers {counts}")
    print("  " + report_ms("/api/health before the flood", before))
    print("  " + report_ms("/api/health during the flood", health))
    health_p99 = percentile([h * 1e3 for h in health], 99)
    print(f"  /api/health p99 during the flood: {health_p99:.1f} ms (target <= 100)")
    print("  " + report_ms("verdict -> bridge during the flood", flood_bridges))
    bridge_p95 = percentile([b * 1e3 for b in flood_bridges], 95)
    print(f"  verdict -> bridge p95 during the flood: {bridge_p95:.1f} ms (target <= 50)")
    ok = health_p99 <= HEALTH_P99_TARGET_MS and bridge_p95 <= BRIDGE_P95_TARGET_MS
    print("  targets met" if ok else "  TARGETS MISSED")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flood", type=int, default=300, help="sign-ups sent at once")
    parser.add_argument("--volunteers", type=int, default=6, help="volunteers taking calls")
    parser.add_argument(
        "--inline", action="store_true", help="hash on the event loop (the code before the fix)"
    )
    parser.add_argument(
        "--default-limits", action="store_true", help="keep the sign-up and hashing limits"
    )
    parser.add_argument("--flood-client", nargs=2, metavar=("URL", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.flood_client:
        os.nice(10)  # the flood stands for clients elsewhere: their CPU is not the server's
        statuses, seconds = asyncio.run(
            flood_client(args.flood_client[0], int(args.flood_client[1]))
        )
        print(json.dumps({"statuses": statuses, "seconds": seconds}))
        return
    asyncio.run(warn_if_busy())
    with running_pair(load_config().pbx, f"bench-signup-{os.getpid()}") as pair:
        ok = asyncio.run(bench(pair, args.flood, args.volunteers, args.inline, args.default_limits))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
