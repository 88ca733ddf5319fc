"""How many concurrent calls the machine sustains (bench/live_pacing.py --capacity).

Every voter is a live person who rings 2–5 s and talks until hung up (carrier behaviour 14);
power dialing, one line per volunteer, so concurrent calls ≈ volunteers. Each step signs in
more volunteers (phones through the carrier simulator, results through the API: talk ~30 s,
wrap up ~1 s), lets them settle, then holds. A step degrades when verdict → bridge p95 is over
50 ms, an AMD verdict is not HUMAN, HUMAN verdicts come later than 4.5 s (p95) after the
answer, a volunteer hears no voice, or RTP loses more than 1 % of its packets.

--amd-engine streaming sets the campaign's amd_engine: the engine's own detector then hears
every answered call (RTP to the engine's receiver, engine/amd/rtp.py), and each step also
reports the detector's CPU per call-second of audio, the receiver's (parsing, decoding and the
detectors), and the packets lost, late (out of order) or delayed by 40 ms or more at the
engine's receiver; a step whose receiver loses more than 1 % also degrades.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
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
from engine.amd.rtp import RtpCounts
from engine.amd.timing import DetectorLoad
from engine.app import Engine
from engine.config import load_config
from engine.dialer.pacing.model import LogNormal
from engine.models import Campaign
from engine.pbx.instance import AsteriskInstance
from testbed.audio import SILENCE_DBFS, rms_dbfs
from testbed.pair import PbxPair
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
    human_p50_s: float = float("nan")
    detector: DetectorLoad | None = None
    """The streaming detectors' CPU and audio over the step (None: app_amd)."""
    receiver: RtpCounts | None = None
    """The engine's RTP receiver over the step (None: app_amd)."""

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
        if self.receiver is not None and self.receiver.packets:
            share = self.receiver.lost / (self.receiver.packets + self.receiver.lost)
            if share > RTP_LOSS_LIMIT:
                found.append(f"the engine's RTP receiver lost {100.0 * share:.1f} %")
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
            f"{self.human_p50_s:.2f} / {self.human_p95_s:.2f} | {audio} | {loss:.2f} | "
            f"{asterisk:.0%} | {process:.0%} | {machine:.0%} | {self._listening()} | {verdict} |"
        )

    def _listening(self) -> str:
        """Detector CPU ms per call-second, receiver CPU ms per call-second, audio heard
        (call-seconds), packets at the engine's receiver: received / lost / late / delayed,
        max delay."""
        d, r = self.detector, self.receiver
        if d is None or r is None:
            return "-"
        per_s = 1000.0 * r.cpu_s / d.audio_s if d.frames else float("nan")
        return (
            f"{d.cpu_ms_per_call_second():.2f} / {per_s:.2f} ms ({d.audio_s:.0f} s); "
            f"{r.packets} / {r.lost} / {r.late} / {r.delayed}, max {r.max_delay_ms:.0f} ms"
        )


HEADER = (
    "| step | voter calls mean / peak | channels peak dialer / carrier "
    "| verdict → bridge ms p50 / p95 / max (n) | wrong AMD / verdicts | HUMAN verdict p50 / p95 s "
    "| volunteers hear dBFS | RTP loss % | CPU Asterisks | CPU bench process | CPU machine "
    "| detector / receiver CPU per call-s (audio); engine RTP received / lost / late / delayed "
    "| verdict |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


SIGNUP_LIMITS = {
    "PHONEBANK_LOGINS_SIGNUPS_PER_ADDRESS": "10000",
    "PHONEBANK_LOGINS_SIGNUPS_PER_MINUTE": "10000",
}
"""Every simulated volunteer signs up from 127.0.0.1: the per-address limit (30 in 10 minutes)
would refuse the 31st (bench/node_capacity.py lifts it the same way)."""


async def capacity(pair: PbxPair, args: argparse.Namespace) -> None:
    for name, value in SIGNUP_LIMITS.items():
        os.environ.setdefault(name, value)  # read by load_config in running_engine
    await warn_if_busy()
    steps = [int(s) for s in args.steps.split(",")]
    rng = random.Random(args.seed)
    voters = min(6000, 5 * sum(steps))
    csv = voter_list([("14", rng.randint(2, 5)) for _ in range(voters)])
    cfg = load_config()
    tmp = Path(tempfile.mkdtemp(prefix="phonebank-capacity-"))
    settings: dict[str, object] = {"ring_seconds": 28, "max_attempts": 1, "wrapup_seconds": 600}
    settings |= {"dial_mode": "power", "lines_per_volunteer": 1, "amd_engine": args.amd_engine}
    print(
        f"Capacity ({args.amd_engine}): steps {steps}, {args.hold:g} s each after "
        f"{SETTLE_S:g} s to settle"
    )
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
    listening = engine.telephony.calls.streaming.listening
    load0 = dataclasses.replace(listening.load) if listening else DetectorLoad()
    counts0 = dataclasses.replace(listening.receiver.counts) if listening else RtpCounts()
    if listening:
        listening.receiver.counts.max_delay_ms = 0.0  # the step's own maximum
    clocks = Clocks.read(pair)
    await _sleep_checking(shifts, args.hold / 2)
    talking = [v for v in volunteers if v.talking and v.sim.phone is not None][:2]
    paths = await asyncio.gather(*(record_for(v.sim.phone, RECORD_S) for v in talking))  # type: ignore[arg-type]
    await _sleep_checking(shifts, args.hold / 2 - RECORD_S)
    rtp = await asyncio.gather(*(asyncio.to_thread(rtp_counts, i) for i in pair.instances))
    used = clocks.used(pair)
    streaming = args.amd_engine == "streaming" and listening is not None
    detector = listening.load.minus(load0) if streaming and listening and load0 else None
    receiver = (
        listening.receiver.counts.minus(counts0) if streaming and listening and counts0 else None
    )
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
        human_p50_s=percentile(humans, 50) if humans else float("nan"),
        audio_dbfs=[await asyncio.to_thread(rms_dbfs, p) for p in paths],
        rtp=(sum(r[0] for r in rtp), sum(r[1] for r in rtp)),
        cpu=used,
        detector=detector,
        receiver=receiver,
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
