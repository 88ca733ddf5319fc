"""Event-loop lag while a 100,000-voter campaign is dialed, the dashboard refreshes and
volunteers sign in: the store on its worker thread ("after") against the store run on the
event loop with the dashboard reading every attempt ("before", the code before issue 12).

The real engine (Engine.running: dialer, outbound calls, sessions, operators) dials through
a fake ARI (tests/unit/fake_ari.py, an aiohttp server on 127.0.0.1) and this script plays the
PBX: each originated call ends 1-4 s later, 80 % unanswered (ChannelDestroyed, cause 19) and
20 % answered by a machine (StasisStart with the MACHINE verdict, then the hang-up). VOLUNTEERS
volunteers are READY in power mode, three lines each. Meanwhile a dashboard refresh (what
GET .../stats computes) runs every REFRESH_S and a new volunteer signs up and signs in every
SIGN_IN_S. A ticker sleeps 10 ms in a loop and records how late each tick fires.

The campaign starts with HISTORY ended attempts from the last two days (as a campaign that has
been dialing for a while), so the old dashboard scan has something to read.

    .venv/bin/python bench/event_loop_lag.py [--voters 100000] [--seconds 40]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.* when run as a script

from engine.app import Engine
from engine.audio.sounds import SoundLibrary
from engine.config import load_config
from engine.models import CallOutcome, CallState
from engine.operators.stats import HOURS, hourly
from engine.store.base import Store
from engine.store.sqlite.rows import to_iso
from engine.store.sqlite.store import SqliteStore
from engine.store.sqlite.worker import SqliteWorker
from engine.voters.csv_rows import VoterRow
from tests.unit.fake_ari import FakeAri

T = TypeVar("T")

VOLUNTEERS = 20
HISTORY = 60_000
REFRESH_S = 0.5
SIGN_IN_S = 1.0
TICK_S = 0.010
ZONE = "America/New_York"


PHASES = {
    "before": "store on the event loop, dashboard reads every attempt",
    "after": "store on its worker thread, dashboard from aggregate queries",
}


class InlineWorker(SqliteWorker):
    """The store as it was before issue 12: every query runs on the event loop."""

    async def run(self, work: Callable[[], T]) -> T:
        return work()


async def hourly_by_scan(store: Store, campaign_id: int, now: datetime) -> dict[str, Any]:
    """The dashboard's hourly figures as web/operator/live.py computed them before issue 12."""
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS - 1)
    contacts, attempts, in_flight = [0] * HOURS, [0] * HOURS, 0
    for attempt in await store.list_attempts(campaign_id):
        if attempt.state != CallState.ENDED:
            in_flight += 1
            continue
        when = attempt.ended_at or attempt.claimed_at
        if when is None or when < start:
            continue
        slot = min(HOURS - 1, int((when - start).total_seconds() // 3600))
        attempts[slot] += 1
        contacts[slot] += attempt.outcome == CallOutcome.CONTACT
    return {"contacts_per_hour": contacts, "attempts_per_hour": attempts, "lines": in_flight}


async def build_template(path: Path, voters: int) -> None:
    """A campaign with ``voters`` voters and HISTORY ended attempts of its first voters."""
    store = SqliteStore.open(path)
    campaign = await store.create_campaign(
        "Lag",
        dial_mode="power",
        lines_per_volunteer=3,
        calling_hours_start="00:00",
        calling_hours_end="24:00",
        max_attempts=1_000_000,
    )
    rows = (VoterRow(phone=f"+1202{n:07d}", first_name="V", timezone=ZONE) for n in range(voters))
    await store.add_voters(campaign.id, rows)
    rng = random.Random(12)
    now = datetime.now(UTC)
    outcomes = [CallOutcome.NO_ANSWER, CallOutcome.MACHINE, CallOutcome.CONTACT, CallOutcome.BUSY]
    history = []
    for n in range(min(HISTORY, voters)):
        ended = now - timedelta(seconds=rng.uniform(0, 48 * 3600))
        claimed, ended_at = to_iso(ended - timedelta(seconds=20)), to_iso(ended)
        outcome = rng.choice(outcomes).value
        history.append((campaign.id, n + 1, f"+1202{n:07d}", "ended", claimed, ended_at, outcome))
    store.conn.executemany(
        "INSERT INTO attempts (campaign_id, voter_id, phone, state, claimed_at, ended_at, "
        "outcome, amd_verdict, amd_cause) VALUES (?, ?, ?, ?, ?, ?, ?, '', '')",
        history,
    )
    store.conn.commit()
    await store.close()


class FakePbx:
    """Ends every call the engine originates, 1-4 s later, like a carrier would."""

    def __init__(self, fake: FakeAri, rng: random.Random) -> None:
        self.fake = fake
        self.rng = rng
        self.seen = 0
        self.calls = 0

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            while True:
                originates = self.fake.requests_to("POST", "/channels")
                for request in originates[self.seen :]:
                    group.create_task(self._call(request.query.get("channelId", "")))
                self.seen = len(originates)
                await asyncio.sleep(0.05)

    async def _call(self, channel_id: str) -> None:
        await asyncio.sleep(self.rng.uniform(1.0, 4.0))
        channel = {"id": channel_id, "name": f"PJSIP/trunk-{channel_id}", "state": "Up"}
        cause = 19
        if self.rng.random() < 0.2:
            await self.fake.push_event(
                {"type": "StasisStart", "channel": channel, "args": ["outbound", "MACHINE", "", ""]}
            )
            await asyncio.sleep(0.3)
            cause = 16
        await self.fake.push_event({"type": "ChannelDestroyed", "channel": channel, "cause": cause})
        self.calls += 1


class Figures:
    def __init__(self) -> None:
        self.lags: list[float] = []
        self.refresh: list[float] = []
        self.sign_in: list[float] = []


async def ticker(figures: Figures) -> None:
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + TICK_S
        await asyncio.sleep(TICK_S)
        figures.lags.append(loop.time() - due)


async def refresher(engine: Engine, campaign_id: int, old: bool, figures: Figures) -> None:
    while True:
        started = time.perf_counter()
        await engine.operators.stats(campaign_id)
        if old:
            await hourly_by_scan(engine.store, campaign_id, datetime.now(UTC))
        else:
            campaign = await engine.store.get_campaign(campaign_id)
            await hourly(engine.store, campaign, datetime.now(UTC))
        figures.refresh.append(time.perf_counter() - started)
        await asyncio.sleep(REFRESH_S)


async def signer(engine: Engine, campaign_id: int, figures: Figures) -> None:
    for n in range(1_000_000):
        started = time.perf_counter()
        signup = await engine.volunteers.sign_up(f"V{n}", f"v{n}@example.org", "+12025550100")
        await engine.volunteers.sign_in(
            signup.login_id, signup.password, campaign_id, "phone", f"10.1.{n // 200}.{n % 200}"
        )
        figures.sign_in.append(time.perf_counter() - started)
        await asyncio.sleep(SIGN_IN_S)


async def start_volunteers(engine: Engine, campaign_id: int) -> None:
    for n in range(VOLUNTEERS):
        signup = await engine.volunteers.sign_up(f"Caller {n}", f"c{n}@example.org", "+12025550100")
        signin = await engine.volunteers.sign_in(
            signup.login_id, signup.password, campaign_id, "phone", f"10.0.0.{n}"
        )
        await engine.sessions.phone_connected(signin.session, f"phone-{n}", f"bridge-{n}")
        await engine.volunteers.start_calling(signin.session.id)


async def noise_floor(seconds: float) -> Figures:
    """The ticker alone: how late ticks fire on this (shared) machine with nothing else to do."""
    figures = Figures()
    task = asyncio.create_task(ticker(figures))
    await asyncio.sleep(seconds)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return figures


async def run_phase(path: Path, old: bool, seconds: float) -> tuple[Figures, int]:
    store = SqliteStore.open(path)
    if old:
        store = SqliteStore(store.db, InlineWorker())
    sounds = SoundLibrary(path.parent, PurePosixPath("/sounds"))
    figures = Figures()
    async with (
        FakeAri() as fake,
        Engine.running(load_config(environ={}), fake.settings(), sounds, store) as engine,
    ):
        campaign = (await store.list_campaigns())[0]
        pbx = FakePbx(fake, random.Random(7))
        tasks = [asyncio.create_task(pbx.run())]
        await start_volunteers(engine, campaign.id)
        tasks += [
            asyncio.create_task(ticker(figures)),
            asyncio.create_task(refresher(engine, campaign.id, old, figures)),
            asyncio.create_task(signer(engine, campaign.id, figures)),
        ]
        await asyncio.sleep(seconds)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        calls = pbx.calls
    await store.close()
    return figures, calls


def ms(values: list[float]) -> str:
    if not values:
        return "no samples"
    ordered = sorted(values)

    def at(q: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return (
        f"p50 {at(0.5):7.1f} ms  p99 {at(0.99):7.1f} ms  max {1000 * ordered[-1]:7.1f} ms"
        f"  (n={len(ordered)}, mean {1000 * statistics.fmean(ordered):.1f} ms)"
    )


def report(name: str, figures: Figures, calls: int, seconds: float) -> None:
    print(f"\n{name}: {calls} calls ended in {seconds:.0f} s ({calls / seconds:.1f}/s)")
    print(f"  event-loop lag     {ms(figures.lags)}")
    print(f"  dashboard refresh  {ms(figures.refresh)}")
    print(f"  sign-up + sign-in  {ms(figures.sign_in)}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--only", choices=("before", "after"), default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="phonebank-lag-") as tmp:
        template = Path(tmp) / "template.db"
        print(
            f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
        )
        print(f"idle ticker (noise floor): {ms((await noise_floor(5.0)).lags)}")
        started = time.perf_counter()
        await build_template(template, args.voters)
        print(
            f"campaign of {args.voters} voters and {min(HISTORY, args.voters)} past attempts "
            f"built in {time.perf_counter() - started:.1f} s"
        )
        for name in ("before", "after"):
            if args.only not in (None, name):
                continue
            path = Path(tmp) / f"{name}.db"
            shutil.copy(template, path)
            figures, calls = await run_phase(path, name == "before", args.seconds)
            how = PHASES[name]
            report(f"{name} ({how})", figures, calls, args.seconds)


if __name__ == "__main__":
    asyncio.run(main())
