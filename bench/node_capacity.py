"""One dialer node or two behind Kamailio, same load (issue 16 item 6; docs/performance.md,
"One node or two").

The step ramp of bench/live_pacing.py --capacity (bench/live_capacity.py: every voter a live
person, power mode, one line per volunteer, the same stop rules), on the multi-node bed of
tests/integration/test_multinode_shift.py: Kamailio, `--nodes` dialer nodes linked to it, a
carrier simulator trunked to Kamailio, and one engine with a `[[nodes]]` entry per node
(SQLite). Each dialer Asterisk is pinned with `taskset` to a core of its own (node1 → core 0,
node2 → core 1); the carrier simulator, Kamailio and this process (engine, web app,
simulated volunteers) are left unpinned. Prints per step the concurrent calls, verdict →
bridge p50 / p95 and each node's CPU.

    .venv/bin/python bench/node_capacity.py --nodes 1|2 [--steps 20,40,60,80,120,160] [--hold 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.* when run as a script

from bench.live_capacity import SETTLE_S, TALK, WRAP_UP, Step, rtp_counts
from bench.live_pacing import sign_in_all, voter_list
from bench.live_support import ApiVolunteer, Carrier, percentile, unlimited_http, warn_if_busy
from engine.app import Engine, NodeSpec
from engine.ari.client import AriClient, AriSettings
from engine.audio.sounds import SoundLibrary
from engine.config import load_config
from engine.models import Campaign
from engine.pbx.instance import AsteriskInstance
from engine.pbx.run import PbxRun
from testbed.events import EventLog
from testbed.kamailio import KamailioFront
from testbed.nodes import running_carrier_behind, running_node, used_ports
from testbed.pair import PbxPair, running_pair
from testbed.shift import SOUNDS, make_campaign
from web.app import run_web


@dataclasses.dataclass
class Bed:
    nodes: dict[str, PbxRun]
    carrier: PbxRun


@contextlib.contextmanager
def running_bed(pair: PbxPair, count: int) -> Iterator[Bed]:
    """Kamailio, ``count`` dialer nodes (each pinned to core i) and a carrier behind it."""
    cfg = load_config().pbx
    front = KamailioFront.prepare()
    avoid = used_ports(pair)
    try:
        with contextlib.ExitStack() as stack:
            nodes: dict[str, PbxRun] = {}
            for i in range(count):
                name = f"node{i + 1}"
                tag = f"bench-{os.getpid()}-{name}"
                nodes[name] = stack.enter_context(running_node(cfg, tag, front.link, avoid))
                avoid |= used_ports(nodes[name])
                pin(nodes[name].dialer, i % (os.cpu_count() or 1))
            tag = f"bench-{os.getpid()}-carrier"
            carrier = stack.enter_context(running_carrier_behind(cfg, pair, tag, front.port, avoid))
            front.start(
                {name: node.dialer.spec.sip_port for name, node in nodes.items()},
                carrier_port=carrier.instance("carrier").spec.sip_port,
            )
            yield Bed(nodes, carrier)
    finally:
        front.stop()


def pin(instance: AsteriskInstance, core: int) -> None:
    """Every thread of the instance's Asterisk on ``core``."""
    assert instance.pid is not None
    subprocess.run(
        ["taskset", "-a", "-p", "-c", str(core), str(instance.pid)],
        check=True,
        capture_output=True,
    )


@contextlib.asynccontextmanager
async def bed_engine(bed: Bed, database: Path) -> AsyncIterator[Engine]:
    cfg = load_config()
    cfg = dataclasses.replace(cfg, engine=dataclasses.replace(cfg.engine, database=str(database)))
    # every simulated volunteer signs up from 127.0.0.1: lift the per-address sign-up limit
    logins = dataclasses.replace(cfg.logins, signups_per_address=10_000, signups_per_minute=10_000)
    cfg = dataclasses.replace(cfg, logins=logins)
    specs = []
    for name, node in bed.nodes.items():
        spec = node.dialer.spec
        ari = AriSettings(spec.ari_url, spec.ari_user, spec.ari_password, spec.ari_app)
        specs.append(NodeSpec(name, ari, f"{spec.ari_url.replace('http', 'ws')}/ws"))
    runtime = next(iter(bed.nodes.values())).dialer.runtime
    sounds = SoundLibrary(runtime.host_path(SOUNDS), SOUNDS)
    async with Engine.running(cfg, sounds=sounds, nodes=specs) as engine:
        yield engine


def cpu_seconds(pid: int | None) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_now(bed: Bed) -> dict[str, float]:
    """CPU seconds of each node's Asterisk, the carrier's and this process's; and the wall."""
    usage = os.times()
    now = {name: cpu_seconds(node.dialer.pid) for name, node in bed.nodes.items()}
    now["carrier"] = cpu_seconds(bed.carrier.instance("carrier").pid)
    now["engine"] = usage.user + usage.system
    now["wall"] = time.time()
    return now


def shares(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU used between two readings, as shares of one core."""
    wall = after["wall"] - before["wall"]
    return {k: (after[k] - before[k]) / wall for k in before if k != "wall"}


async def run(pair: PbxPair, args: argparse.Namespace) -> None:
    await warn_if_busy()
    steps = [int(s) for s in args.steps.split(",")]
    rng = random.Random(args.seed)
    csv = voter_list([("14", rng.randint(2, 5)) for _ in range(min(6000, 5 * sum(steps)))])
    tmp = Path(tempfile.mkdtemp(prefix="phonebank-nodes-"))
    settings: dict[str, object] = {"ring_seconds": 28, "max_attempts": 1, "wrapup_seconds": 600}
    settings |= {"dial_mode": "power", "lines_per_volunteer": 1}
    cfg = load_config()
    print(f"{args.nodes} node(s): steps {steps}, {args.hold:g} s each after {SETTLE_S:g} s")
    print(
        "| step | calls mean / peak | verdict → bridge ms p50 / p95 (n) | wrong AMD | "
        "CPU per node | CPU carrier / engine process | verdict |\n|---|---|---|---|---|---|---|",
        flush=True,
    )
    with running_bed(pair, args.nodes) as bed:
        async with (
            bed_engine(bed, tmp / "nodes.db") as engine,
            run_web(engine, dataclasses.replace(cfg.web, port=0)) as url,
            carrier_link_of(bed) as carrier,
            unlimited_http() as http,
        ):
            campaign = await make_campaign(engine, csv, **settings)
            volunteers: list[ApiVolunteer] = []
            shifts: list[asyncio.Task[None]] = []
            sustained = 0
            try:
                for target in steps:
                    new = await sign_in_all(
                        engine, pair, carrier, http, url, campaign,
                        range(len(volunteers), target), rng, TALK, WRAP_UP,
                    )  # fmt: skip
                    volunteers += new
                    shifts += [asyncio.create_task(v.work(http)) for v in new]
                    step, cpu = await hold(engine, bed, campaign, target, args.hold)
                    ms = sorted(b * 1e3 for b in step.bridges)
                    per_node = ", ".join(f"{n} {cpu[n]:.0%}" for n in bed.nodes)
                    problems = step.problems()
                    print(
                        f"| {target} | {step.calls_mean:.0f} / {step.calls_peak} | "
                        f"{percentile(ms, 50):.1f} / {percentile(ms, 95):.1f} ({len(ms)}) | "
                        f"{step.wrong} / {step.verdicts} | {per_node} | "
                        f"{cpu['carrier']:.0%} / {cpu['engine']:.0%} | "
                        f"{', '.join(problems) or 'ok'} |",
                        flush=True,
                    )
                    if problems:
                        break
                    sustained = target
            finally:
                for shift in shifts:
                    shift.cancel()
                await asyncio.gather(*shifts, return_exceptions=True)
            print(f"largest step sustained with {args.nodes} node(s): {sustained}")


@contextlib.asynccontextmanager
async def carrier_link_of(bed: Bed) -> AsyncIterator[Carrier]:
    """The bed's carrier simulator's ARI and event log: what the volunteers' phones need."""
    spec = bed.carrier.instance("carrier").spec
    settings = AriSettings(spec.ari_url, spec.ari_user, spec.ari_password, spec.ari_app)
    async with AriClient.connect(settings) as ari, EventLog.running(ari) as events:
        yield ari, events


async def hold(
    engine: Engine, bed: Bed, campaign: Campaign, target: int, seconds: float
) -> tuple[Step, dict[str, float]]:
    """Settle, then hold the step: sample the engine's calls and the channels every 2 s."""
    await asyncio.sleep(SETTLE_S)
    nodes = list(engine.nodes.values())
    first = [len(n.telephony.calls.bridge_latencies) for n in nodes]
    before = cpu_now(bed)
    calls: list[int] = []
    channels: list[int] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        calls.append(sum(len(n.telephony.calls.by_channel) for n in nodes))
        listed = await asyncio.gather(*(n.ari.list_channels() for n in nodes))
        channels.append(sum(len(c) for c in listed))
        await asyncio.sleep(2.0)
    cpu = shares(before, cpu_now(bed))
    instances = [n.dialer for n in bed.nodes.values()] + [bed.carrier.instance("carrier")]
    rtp = await asyncio.gather(*(asyncio.to_thread(rtp_counts, i) for i in instances))
    t0, t1 = before["wall"], time.time()
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
    bridges = [
        b for n, f in zip(nodes, first, strict=True) for b in n.telephony.calls.bridge_latencies[f:]
    ]
    step = Step(
        target=target,
        calls_mean=sum(calls) / len(calls) if calls else 0.0,
        calls_peak=max(calls, default=0),
        channels_peak=(max(channels, default=0), 0),
        bridges=bridges,
        verdicts=len(attempts),
        wrong=sum(a.amd_verdict != "HUMAN" for a in attempts),
        human_p95_s=percentile(humans, 95) if humans else float("nan"),
        audio_dbfs=[],
        rtp=(sum(r[0] for r in rtp), sum(r[1] for r in rtp)),
        cpu=(cpu["engine"], sum(cpu[n] for n in bed.nodes), 0.0),
    )
    return step, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, choices=(1, 2), default=1)
    parser.add_argument("--steps", default="20,40,60,80,120,160")
    parser.add_argument("--hold", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with running_pair(load_config().pbx, f"bench-nodes-{os.getpid()}") as pair:
        asyncio.run(run(pair, args))


if __name__ == "__main__":
    main()
