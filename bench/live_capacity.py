"""How many concurrent calls the machine sustains (bench/live_pacing.py --capacity).

Every voter is a live person who rings 2–5 s and talks until hung up (carrier behaviour 14);
power dialing, one line per volunteer, so concurrent calls ≈ volunteers. Each step signs in
more volunteers (phones through the carrier simulator, results through the API: talk ~30 s,
wrap up ~1 s), lets them settle, then holds. A step degrades when verdict → bridge p95 is over
50 ms, an AMD verdict is not HUMAN, HUMAN verdicts come later than 4.5 s (p95) after the
answer, a volunteer hears no voice, or RTP loses more than 1 % of its packets.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import re
import tempfile
import time
from pathlib import Path

from bench.live_pacing import sign_in_all, voter_list
from bench.live_support import (
    ApiVolunteer,
    Clocks,
    ShiftSampler,
    carrier_link,
    percentile,
    unlimited_http,
    warn_if_busy,
)
from engine.app import Engine
from engine.config import load_config
from engine.dialer.pacing.model import LogNormal
from engine.models import Campaign
from engine.pbx.instance import AsteriskInstance
from engine.pbx.pair import PbxPair
from testbed.audio import SILENCE_DBFS, rms_dbfs
from testbed.phones import record_for
from testbed.shift import make_campaign, running_engine
from web.app import run_web

BRIDGE_P95_TARGET_S = 0.050
HUMAN_VERDICT_P95_S = 4.5
"""tests/integration/test_amd.py's bound on answer → HUMAN verdict."""
RTP_LOSS_LIMIT = 0.01
SETTLE_S = 15.0
TALK = LogNormal(30.0, 0.3, 10.0, 60.0)
WRAP_UP = LogNormal(1.0, 0.3, 0.5, 3.0)
RECORD_S = 4.0


@dataclasses.dataclass
class Step:
    target: int
    calls_mean: float
    calls_peak: int
    channels_peak: tuple[int, int]
    bridges: list[float]
    verdicts: int
    wrong: int
    human_p95_s: float
    audio_dbfs: list[float]
    rtp: tuple[int, int]
    """(packets received, lost) over both PBXes' channels at the end of the step."""
    cpu: tuple[float, float, float]

    def problems(self) -> list[str]:
        found = []
        if self.bridges and percentile(sorted(self.bridges), 95) > BRIDGE_P95_TARGET_S:
            found.append("verdict → bridge p95 over 50 ms")
        if self.wrong:
            found.append(f"{self.wrong} wrong AMD verdicts")
        if self.human_p95_s > HUMAN_VERDICT_P95_S:
            found.append(f"HUMAN verdict p95 {self.human_p95_s:.2f} s")
        if any(level < SILENCE_DBFS for level in self.audio_dbfs):
            found.append("a volunteer heard silence")
        received, lost = self.rtp
        if received and lost / (received + lost) > RTP_LOSS_LIMIT:
            found.append(f"RTP loss {100.0 * lost / (received + lost):.1f} %")
        if self.calls_mean < 0.8 * self.target:
            found.append("the concurrent calls did not reach the step")
        return found

    def row(self) -> str:
        ms = sorted(b * 1e3 for b in self.bridges)
        received, lost = self.rtp
        loss = 100.0 * lost / (received + lost) if received + lost else 0.0
        process, asterisk, machine = self.cpu
        audio = ", ".join(f"{a:.0f}" for a in self.audio_dbfs) or "-"
        verdict = ", ".join(self.problems()) or "ok"
        return (
            f"| {self.target} | {self.calls_mean:.0f} / {self.calls_peak} | "
            f"{self.channels_peak[0]} / {self.channels_peak[1]} | "
            f"{percentile(ms, 50):.1f} / {percentile(ms, 95):.1f} / "
            f"{ms[-1] if ms else float('nan'):.1f} ({len(ms)}) | {self.wrong} / {self.verdicts} | "
            f"{self.human_p95_s:.2f} | {audio} | {loss:.2f} | "
            f"{asterisk:.0%} | {process:.0%} | {machine:.0%} | {verdict} |"
        )


HEADER = (
    "| step | voter calls mean / peak | channels peak dialer / carrier "
    "| verdict → bridge ms p50 / p95 / max (n) | wrong AMD / verdicts | HUMAN verdict p95 s "
    "| volunteers hear dBFS | RTP loss % | CPU Asterisks | CPU bench process | CPU machine "
    "| verdict |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
)


async def capacity(pair: PbxPair, args: argparse.Namespace) -> None:
    await warn_if_busy()
    steps = [int(s) for s in args.steps.split(",")]
    rng = random.Random(args.seed)
    voters = min(6000, 5 * sum(steps))
    csv = voter_list([("14", rng.randint(2, 5)) for _ in range(voters)])
    cfg = load_config()
    tmp = Path(tempfile.mkdtemp(prefix="phonebank-capacity-"))
    settings: dict[str, object] = {"ring_seconds": 28, "max_attempts": 1, "wrapup_seconds": 600}
    settings |= {"dial_mode": "power", "lines_per_volunteer": 1}
    print(f"Capacity: steps {steps}, {args.hold:g} s each after {SETTLE_S:g} s to settle")
    print(HEADER, flush=True)
    async with (
        running_engine(pair, tmp / "capacity.db") as engine,
        run_web(engine, dataclasses.replace(cfg.web, port=0)) as url,
        carrier_link(pair) as carrier,
        unlimited_http() as http,
    ):
        campaign = await make_campaign(engine, csv, **settings)
        sampler = ShiftSampler(engine, carrier[0], interval=2.0)
        sampler.start()
        volunteers: list[ApiVolunteer] = []
        shifts: list[asyncio.Task[None]] = []
        try:
            for target in steps:
                new = await sign_in_all(
                    engine, pair, carrier, http, url, campaign,
                    range(len(volunteers), target), rng, TALK, WRAP_UP,
                )  # fmt: skip
                volunteers += new
                shifts += [asyncio.create_task(v.work(http)) for v in new]
                step = await hold(engine, pair, campaign, volunteers, shifts, sampler, target, args)
                print(step.row(), flush=True)
                if step.problems():
                    print(f"stopped at {target}: {', '.join(step.problems())}")
                    break
        finally:
            for shift in shifts:
                shift.cancel()
            await asyncio.gather(*shifts, return_exceptions=True)
            await sampler.stop()


async def hold(
    engine: Engine,
    pair: PbxPair,
    campaign: Campaign,
    volunteers: list[ApiVolunteer],
    shifts: list[asyncio.Task[None]],
    sampler: ShiftSampler,
    target: int,
    args: argparse.Namespace,
) -> Step:
    """Settle, then hold the step and measure it."""
    assert engine.telephony is not None
    await asyncio.sleep(SETTLE_S)
    first = len(engine.telephony.calls.bridge_latencies)
    clocks = Clocks.read(pair)
    await _sleep_checking(shifts, args.hold / 2)
    talking = [v for v in volunteers if v.talking and v.sim.phone is not None][:2]
    paths = await asyncio.gather(*(record_for(v.sim.phone, RECORD_S) for v in talking))  # type: ignore[arg-type]
    await _sleep_checking(shifts, args.hold / 2 - RECORD_S)
    rtp = await asyncio.gather(*(asyncio.to_thread(rtp_counts, i) for i in pair.instances))
    used = clocks.used(pair)
    t0, t1 = clocks.wall, time.time()
    attempts = [
        a
        for a in await engine.store.list_attempts(campaign.id)
        if a.amd_at and t0 <= a.amd_at.timestamp() <= t1
    ]
    humans = sorted(
        (a.amd_at - a.answered_at).total_seconds()  # type: ignore[operator]
        for a in attempts
        if a.amd_verdict == "HUMAN" and a.answered_at
    )
    samples = sampler.between(t0, t1)
    return Step(
        target=target,
        calls_mean=sum(s.calls for s in samples) / len(samples) if samples else 0.0,
        calls_peak=max((s.calls for s in samples), default=0),
        channels_peak=(
            max((s.dialer_channels for s in samples), default=0),
            max((s.carrier_channels for s in samples), default=0),
        ),
        bridges=engine.telephony.calls.bridge_latencies[first:],
        verdicts=len(attempts),
        wrong=sum(a.amd_verdict != "HUMAN" for a in attempts),
        human_p95_s=percentile(humans, 95) if humans else float("nan"),
        audio_dbfs=[await asyncio.to_thread(rms_dbfs, p) for p in paths],
        rtp=(sum(r[0] for r in rtp), sum(r[1] for r in rtp)),
        cpu=used,
    )


async def _sleep_checking(shifts: list[asyncio.Task[None]], seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await asyncio.sleep(min(1.0, max(0.0, end - time.monotonic())))
        for shift in shifts:
            if shift.done():
                shift.result()
                raise RuntimeError("a volunteer's shift ended early")


ROW = re.compile(
    r"\s(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+[\d.]+\s*$"
)
"""The receive and transmit columns of `pjsip show channelstats`: count lost pct jitter (x2),
then RTT."""


def rtp_counts(instance: AsteriskInstance) -> tuple[int, int]:
    """(packets received, packets lost) summed over the instance's live channels."""
    received = lost = 0
    for line in instance.cli("pjsip show channelstats", timeout=20).splitlines():
        match = ROW.search(line)
        if match:
            received += int(match.group(1))
            lost += int(match.group(2))
    return received, lost
