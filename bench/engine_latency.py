"""Engine speed on the real PBX pair: AMD verdict → voter in the volunteer's bridge, bridge →
voter card on the volunteer's WebSocket, and CPU per call attempt.

Starts its own dialer PBX and carrier simulator, the engine and the web app (free ports);
VOLUNTEERS simulated volunteers call in and take CALLS live-person calls: each volunteer's
WebSocket (/api/session/events, as the volunteer page uses it) records when the voter card
arrives; the volunteer then ends the call after a moment and saves a result.

    .venv/bin/python bench/engine_latency.py [CALLS] [VOLUNTEERS]
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from engine.models import AfterResult

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.* when run as a script

from bench.live_support import Carrier, asterisk_cpu, carrier_link, process_cpu, report_ms
from engine.app import Engine
from engine.config import load_config
from engine.models import SessionState
from testbed.pair import PbxPair, running_pair
from testbed.shift import SimVolunteer, make_campaign, running_engine, voters_csv
from testbed.waiting import wait_until
from web.app import run_web


async def volunteer_loop(
    engine: Engine,
    url: str,
    volunteer: SimVolunteer,
    token: str,
    card_delays: list[float],
    done: asyncio.Event,
) -> None:
    """React to the voter card on the WebSocket like the page would, then wrap up."""
    ws_url = url.replace("http", "ws") + f"/api/session/events?token={token}"
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url) as ws:
        async for message in ws:
            event = message.json()
            if event.get("type") != "voter":
                continue
            received = time.time()
            attempt = await engine.store.get_attempt(event["attempt_id"])
            assert attempt.bridged_at is not None
            card_delays.append(received - attempt.bridged_at.timestamp())
            await asyncio.sleep(0.5)  # a very short conversation
            session_id = volunteer.session.id
            if (await engine.store.get_session(session_id)).state == SessionState.TALKING:
                await engine.volunteers.end_call(session_id)
            await volunteer.wait_state(SessionState.WRAP_UP)
            await engine.volunteers.submit_result(
                session_id, "talked", {}, "", then=AfterResult.READY
            )
            if done.is_set():
                return


async def phone_volunteers(
    engine: Engine, pair: PbxPair, carrier: Carrier, campaign_id: int, count: int
) -> tuple[list[SimVolunteer], list[str]]:
    """`count` volunteers signed in to the campaign and called in by phone, with their tokens."""
    sims, tokens = [], []
    for n in range(count):
        signup = await engine.volunteers.sign_up(f"Bench {n}", f"b{n}@x.org", "+12025550111")
        signin = await engine.volunteers.sign_in(
            signup.login_id, signup.password, campaign_id, "phone", f"bench-{n}"
        )
        sim = SimVolunteer(engine, signin.session)
        await sim.call_in(pair, carrier)
        sims.append(sim)
        tokens.append(signin.token)
    return sims, tokens


async def bench(pair: PbxPair, calls: int, volunteers: int) -> None:
    cfg = load_config()
    tmp = Path(tempfile.mkdtemp(prefix="phonebank-bench-"))
    web_cfg = dataclasses.replace(cfg.web, port=0)
    async with (
        running_engine(pair, tmp / "bench.db") as engine,
        run_web(engine, web_cfg) as url,
        carrier_link(pair) as carrier,
    ):
        campaign = await make_campaign(engine, voters_csv([("10", v) for v in range(calls)]))
        sims, tokens = await phone_volunteers(engine, pair, carrier, campaign.id, volunteers)
        card_delays: list[float] = []
        done = asyncio.Event()
        cpu0, wall0 = process_cpu(), time.monotonic()
        ast0 = asterisk_cpu(pair)
        loops = [
            asyncio.create_task(volunteer_loop(engine, url, s, t, card_delays, done))
            for s, t in zip(sims, tokens, strict=True)
        ]
        for sim in sims:
            await engine.volunteers.start_calling(sim.session.id)
        await wait_until(
            lambda: len(card_delays) >= calls,
            timeout=30 + 3 * calls,
            what=f"{calls} calls",
            interval=0.2,
        )
        done.set()
        cpu, wall, ast = process_cpu() - cpu0, time.monotonic() - wall0, asterisk_cpu(pair) - ast0
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        assert engine.telephony is not None
        bridge = engine.telephony.calls.bridge_latencies
    print(f"{calls} live calls, {volunteers} volunteers, {wall:.1f} s")
    print(report_ms("AMD verdict -> voter in bridge", bridge))
    print(report_ms("bridge -> voter card on WebSocket", card_delays))
    print(
        f"process CPU (engine + web + simulated volunteers): {1e3 * cpu / calls:.1f} ms "
        f"per call attempt ({100 * cpu / wall:.0f} % of one core)"
    )
    print(f"Asterisk CPU (dialer PBX + carrier simulator): {1e3 * ast / calls:.1f} ms per call")


def main() -> None:
    calls = min(int(sys.argv[1]) if len(sys.argv) > 1 else 60, 100)  # 100 distinct numbers
    volunteers = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    with running_pair(load_config().pbx, f"bench-engine-{os.getpid()}") as pair:
        asyncio.run(bench(pair, calls, volunteers))


if __name__ == "__main__":
    main()
