"""Answering-machine detection through the engine, on the real PBX pair: accuracy, answer →
verdict and answer → voter bridged to a ready volunteer, for either detector.

Starts its own dialer PBX and carrier simulator (free ports) and the engine; VOLUNTEERS
simulated volunteers call in and take the calls of a campaign whose voters are every surveyed
greeting (people plain and silent first, answering machines, carrier voicemail) ROUNDS times.
Each volunteer ends a call TALK seconds (4) after it is put through and saves a result. The
figures come from the attempts as the API shows them (answered_at, amd_at, bridged_at).
Figures go to docs/testbed.md. For the streaming detector it also breaks answer → bridged of
each person down into the segments of engine/amd/timing.py (answer stamp → tap start → tap
made → first frame → speech onset → end of first utterance → last speech → decision →
verdict stored → bridged) and prints each segment's percentiles.

    .venv/bin/python bench/amd_accuracy.py [--engine app_amd|streaming|both] [--rounds N]
        [--volunteers N] [--amd-args ARGS] [--thresholds JSON] [--early-connect] [--talk S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.* when run as a script

from bench.live_support import carrier_link, percentile
from engine.amd.timing import SEGMENTS, TapTiming
from engine.app import Engine
from engine.config import load_config
from engine.models import AfterResult, Attempt, SessionState
from testbed.amd_survey import SURVEY_CODES, VOICE_KIND
from testbed.behaviours import BY_CODE
from testbed.pair import PbxPair, running_pair
from testbed.shift import SimVolunteer, make_campaign, running_engine
from testbed.waiting import wait_until


def voters(pair: PbxPair, rounds: int) -> bytes:
    """Every surveyed greeting once per round; each round dials its own area code."""
    lines = ["first_name,last_name,phone,zip"]
    for r in range(rounds):
        for code in SURVEY_CODES:
            for voice in pair.voices["files"]:
                if voice["kind"] == VOICE_KIND[code]:
                    number = f"+1{202 + r}555{code}{voice['index']:02d}"
                    lines.append(f"V{len(lines)},B{code},{number},20001")
    return ("\n".join(lines) + "\n").encode()


async def take_calls(engine: Engine, volunteer: SimVolunteer, talk_s: float) -> None:
    """Take each call put through, end it after `talk_s` and save a result; forever."""
    session_id = volunteer.session.id
    while True:
        await volunteer.wait_state(SessionState.TALKING, timeout=3600)
        await asyncio.sleep(talk_s)
        if (await volunteer.refresh()).state == SessionState.TALKING:
            await engine.volunteers.end_call(session_id)
        # READY: a machine taken back from the volunteer (no result owed)
        session = await volunteer.wait_state(SessionState.WRAP_UP, SessionState.READY)
        if session.state == SessionState.WRAP_UP:
            await engine.volunteers.submit_result(session_id, "talked", {}, "", AfterResult.READY)


Timings = dict[str, TapTiming]


async def run(
    pair: PbxPair, amd_engine: str, args: argparse.Namespace
) -> tuple[list[Attempt], Timings]:
    settings: dict[str, Any] = {"amd_engine": amd_engine, "ring_seconds": 20}
    if args.amd_args:
        settings["amd_args"] = args.amd_args
    if args.thresholds:
        settings["amd_thresholds"] = json.loads(args.thresholds)
    if args.early_connect:
        settings["early_connect"] = True
    tmp = Path(tempfile.mkdtemp(prefix="phonebank-bench-amd-"))
    async with running_engine(pair, tmp / "bench.db") as engine, carrier_link(pair) as carrier:
        campaign = await make_campaign(engine, voters(pair, args.rounds), **settings)
        sims = []
        for n in range(args.volunteers):
            sim = await SimVolunteer.sign_in(engine, campaign, n)
            await sim.call_in(pair, carrier)
            sims.append(sim)
        loops = [asyncio.create_task(take_calls(engine, sim, args.talk)) for sim in sims]
        for sim in sims:
            await engine.volunteers.start_calling(sim.session.id)

        async def all_ended() -> list[Attempt] | None:
            attempts = await engine.store.list_attempts(campaign.id)
            ended = [a for a in attempts if a.outcome is not None]
            return ended if len(ended) == 36 * args.rounds else None

        attempts: list[Attempt] = await wait_until(
            all_ended, timeout=60 + 60 * args.rounds, what="every call"
        )
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        assert engine.telephony is not None
        listening = engine.telephony.calls.streaming.listening
        timings = dict(listening.timings) if listening is not None else {}
    return attempts, timings


def seconds(values: list[float]) -> str:
    if not values:
        return "no samples"
    ordered = sorted(values)
    return (
        f"median {statistics.median(ordered):.2f} s, p95 {percentile(ordered, 95):.2f} s, "
        f"max {ordered[-1]:.2f} s (n={len(ordered)})"
    )


def breakdown(people: list[Attempt], timings: Timings) -> None:
    """Percentiles of each segment of answer → bridged over the people put through at once
    (HUMAN, not early connect)."""
    rows = []
    for a in people:
        timing = timings.get(a.channel_id or "")
        if timing is None or not (a.answered_at and a.amd_at and a.bridged_at):
            continue
        if a.amd_verdict != "HUMAN" or a.amd_cause.startswith("EARLY"):
            continue
        segments = timing.segments(
            a.answered_at.timestamp(), a.amd_at.timestamp(), a.bridged_at.timestamp()
        )
        if segments is not None:
            rows.append(segments)
    print(f"  answer -> bridged, segment by segment (people, n={len(rows)}):")
    print("  | segment | median s | p95 s | max s |")
    for i, name in enumerate(SEGMENTS):
        values = sorted(r[i] for r in rows)
        if values:
            print(
                f"  | {name} | {statistics.median(values):.3f} | "
                f"{percentile(values, 95):.3f} | {values[-1]:.3f} |"
            )


def report(amd_engine: str, attempts: list[Attempt], timings: Timings) -> None:
    def expected(a: Attempt) -> str:
        return BY_CODE[a.phone[-4:-2]].amd or "?"

    people = [a for a in attempts if expected(a) == "HUMAN"]
    machines = [a for a in attempts if expected(a) == "MACHINE"]
    right = sum(a.amd_verdict == expected(a) for a in attempts)
    to_verdict = [
        (a.amd_at - a.answered_at).total_seconds()
        for a in people
        if a.amd_verdict == "HUMAN" and a.amd_at and a.answered_at
    ]
    to_bridge = [
        (a.bridged_at - a.answered_at).total_seconds()
        for a in people
        if a.bridged_at and a.answered_at
    ]
    to_machine = [
        (a.amd_at - a.answered_at).total_seconds()
        for a in machines
        if a.amd_verdict == "MACHINE" and a.amd_at and a.answered_at
    ]
    print(f"amd.engine = {amd_engine}: {len(attempts)} calls")
    print(f"  accuracy {100 * right / len(attempts):.1f} % ({right}/{len(attempts)})")
    print(f"  people called MACHINE: {sum(a.amd_verdict == 'MACHINE' for a in people)}")
    print(f"  people NOTSURE: {sum(a.amd_verdict == 'NOTSURE' for a in people)}")
    print(f"  machines passed as HUMAN: {sum(a.amd_verdict == 'HUMAN' for a in machines)}")
    heard = [a for a in machines if a.heard_machine]
    heard_for = [
        (a.amd_at - a.bridged_at).total_seconds() for a in heard if a.amd_at and a.bridged_at
    ]
    print(
        f"  machines a volunteer heard (put through, then taken back): {len(heard)} of"
        f" {len(machines)}; heard for {seconds(heard_for)}"
    )
    print(f"  answer -> HUMAN verdict: {seconds(to_verdict)}")
    print(f"  answer -> bridged:       {seconds(to_bridge)}")
    print(f"  answer -> MACHINE:       {seconds(to_machine)}")
    if amd_engine.startswith("streaming"):
        # The cause ends with the audio time of the decision: what the wall clock adds to it
        # is the tap's delay (audio lost before the tap, transport, the event loop).
        lag = [
            (a.amd_at - a.answered_at).total_seconds() - int(a.amd_cause.rsplit("-", 1)[1]) / 1e3
            for a in attempts
            if a.amd_at and a.answered_at and a.amd_cause.rsplit("-", 1)[-1].isdigit()
        ]
        print(f"  verdict time - decision's audio time: {seconds(lag)}")
        breakdown(people, timings)
    for a in attempts:
        if a.amd_verdict != expected(a):
            print(f"  wrong: {a.phone} expected {expected(a)}: {a.amd_verdict} ({a.amd_cause})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=("app_amd", "streaming", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--volunteers", type=int, default=4)
    parser.add_argument("--amd-args", default="", help="AMD() arguments (app_amd)")
    parser.add_argument("--thresholds", default="", help="streaming thresholds, a JSON object")
    parser.add_argument("--early-connect", action="store_true", help="streaming: early connect")
    parser.add_argument(
        "--talk",
        type=float,
        default=4.0,
        help="seconds a volunteer stays on each call (a"
        " machine taken for a person is taken back within the detector's 3 s retract_ms)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    engines = ("app_amd", "streaming") if args.engine == "both" else (args.engine,)
    with running_pair(load_config().pbx, f"bench-amd-{os.getpid()}") as pair:
        for amd_engine in engines:
            label = f"{amd_engine} + early connect" if args.early_connect else amd_engine
            report(label, *asyncio.run(run(pair, amd_engine, args)))


if __name__ == "__main__":
    main()
