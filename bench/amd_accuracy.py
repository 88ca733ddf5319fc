"""Answering-machine detection through the engine, on the real PBX pair: accuracy, answer →
verdict and answer → voter bridged to a ready volunteer, for either detector and either
evaluation set.

Starts its own dialer PBX and carrier simulator (free ports) and the engine; VOLUNTEERS
simulated volunteers call in and take the calls of a campaign whose voters are the chosen
set's greetings ROUNDS times: today's (data/voices.toml: people plain and silent first,
answering machines, carrier voicemail; behaviours 10, 11, 20, 21) and/or the harder one
(data/voices-hard.toml, behaviour 50: each clip's expected verdict from its manifest).
Each volunteer ends a call TALK seconds (6) after it is put through and saves a result. The
figures come from the attempts as the API shows them (answered_at, amd_at, bridged_at), per
set (bench/amd_live_figures.py), and end in one markdown table, a column per detector and set.
Figures go to docs/testbed.md. For the streaming detector it also breaks answer → bridged of
each person down into the segments of engine/amd/timing.py (answer stamp → tap start → tap
made → first frame → speech onset → end of first utterance → last speech → decision →
verdict stored → bridged) and prints each segment's percentiles.

    .venv/bin/python bench/amd_accuracy.py [--set today|hard|both] [--engine app_amd|streaming|both]
        [--kinds KIND,...] [--rounds N] [--volunteers N] [--amd-args ARGS] [--thresholds JSON]
        [--early-connect] [--talk S]
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

from bench.amd_live_figures import SetFigures, by_kind, cause_ms, set_figures, table
from bench.live_support import carrier_link, percentile
from engine.amd.timing import SEGMENTS, TapTiming
from engine.app import Engine
from engine.config import load_config
from engine.models import AfterResult, Attempt, SessionState
from testbed.amd_survey import SETS, SurveyVoter, survey_voters
from testbed.pair import PbxPair, running_pair
from testbed.shift import SimVolunteer, make_campaign, running_engine
from testbed.waiting import wait_until

Voters = dict[str, dict[str, SurveyVoter]]
"""Each set's greetings by their numbers' last four digits."""


def evaluation_sets(pair: PbxPair, chosen: str, kinds: frozenset[str] = frozenset()) -> Voters:
    """The chosen sets' greetings (only those of ``kinds``, when given)."""
    names = SETS if chosen == "both" else (chosen,)
    sets = {
        name: {
            v.digits: v
            for v in survey_voters(name, pair.voices, pair.hard_voices)
            if not kinds or v.kind in kinds
        }
        for name in names
    }
    return {name: greetings for name, greetings in sets.items() if greetings}


def voters_csv(sets: Voters, rounds: int) -> bytes:
    """Every greeting of the chosen sets once per round; each round dials its own area code."""
    lines = ["first_name,last_name,phone,zip"]
    for r in range(rounds):
        for name, greetings in sets.items():
            for digits, voter in greetings.items():
                lines.append(f"V{len(lines)},{name}-{voter.kind},+1{202 + r}555{digits},20001")
    return ("\n".join(lines) + "\n").encode()


async def take_calls(engine: Engine, volunteer: SimVolunteer, talk_s: float) -> None:
    """Take each call put through, end it after `talk_s` and save a result; forever."""
    session_id = volunteer.session.id
    while True:
        talking = await volunteer.wait_state(SessionState.TALKING, timeout=3600)
        await asyncio.sleep(talk_s)
        now = await volunteer.refresh()
        if now.state == SessionState.TALKING and now.attempt_id != talking.attempt_id:
            continue  # that call was taken back and this is the next: it gets its own time
        if now.state == SessionState.TALKING:
            await engine.volunteers.end_call(session_id)
        # READY: a machine taken back from the volunteer (no result owed)
        session = await volunteer.wait_state(SessionState.WRAP_UP, SessionState.READY)
        if session.state == SessionState.WRAP_UP:
            await engine.volunteers.submit_result(session_id, "talked", {}, "", AfterResult.READY)


Timings = dict[str, TapTiming]


async def run(
    pair: PbxPair, amd_engine: str, sets: Voters, args: argparse.Namespace
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
        calls = sum(len(greetings) for greetings in sets.values()) * args.rounds
        campaign = await make_campaign(engine, voters_csv(sets, args.rounds), **settings)
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
            return ended if len(ended) == calls else None

        attempts: list[Attempt] = await wait_until(
            all_ended, timeout=60 + 4 * calls, what="every call"
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


def report(
    label: str, attempts: list[Attempt], timings: Timings, sets: Voters
) -> dict[str, SetFigures]:
    """Print the run's figures per set (and, streaming, the tap's delay and the breakdown);
    return them for the closing table."""
    figures = {}
    for name, greetings in sets.items():
        f = set_figures(attempts, greetings, timings)
        figures[f"{label}, {name}"] = f
        print(f"\namd.engine = {label}, {name}'s set: {f.calls} calls")
        print(table({name: f}))
        print("  first → final verdicts by kind:")
        for kind, verdicts in sorted(by_kind(attempts, greetings, timings).items()):
            print(f"  {kind:<20} {verdicts}")
        if label.startswith("streaming"):
            mine = [a for a in attempts if a.phone[-4:] in greetings]
            # The cause ends with the audio time of the decision: what the wall clock adds to
            # it is the tap's delay (audio lost before the tap, transport, the event loop).
            lag = [
                (a.amd_at - a.answered_at).total_seconds() - ms / 1e3
                for a in mine
                if a.amd_at and a.answered_at and (ms := cause_ms(a.amd_cause)) is not None
            ]
            print(f"  verdict time - decision's audio time: {seconds(lag)}")
            people = [a for a in mine if greetings[a.phone[-4:]].expected == "HUMAN"]
            breakdown(people, timings)
        for line in f.wrong:
            print(f"  wrong: {line}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=("today", "hard", "both"), default="both")
    parser.add_argument("--engine", choices=("app_amd", "streaming", "both"), default="both")
    parser.add_argument(
        "--kinds",
        default="",
        help="only these kinds of greeting, comma-separated (e.g. mid-pause,short-greeting;"
        " today's: person, person-silent-first, machine, carriervm)",
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--volunteers", type=int, default=4)
    parser.add_argument("--amd-args", default="", help="AMD() arguments (app_amd)")
    parser.add_argument("--thresholds", default="", help="streaming thresholds, a JSON object")
    parser.add_argument("--early-connect", action="store_true", help="streaming: early connect")
    parser.add_argument(
        "--talk",
        type=float,
        default=6.0,
        help="seconds a volunteer stays on each call: long enough for a take-back (within"
        " retract_ms, 3 s, of HUMAN; after a SILENCE verdict, of a slow machine's first words)",
    )
    args = parser.parse_args()
    level = os.environ.get("PHONEBANK_BENCH_LOG", "WARNING")  # INFO: every call's steps
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(message)s")
    engines = ("app_amd", "streaming") if args.engine == "both" else (args.engine,)
    figures: dict[str, SetFigures] = {}
    with running_pair(load_config().pbx, f"bench-amd-{os.getpid()}") as pair:
        sets = evaluation_sets(pair, args.set, frozenset(filter(None, args.kinds.split(","))))
        if not sets:
            parser.error(f"no greeting of set {args.set} is of the kinds {args.kinds}")
        for amd_engine in engines:
            label = f"{amd_engine} + early connect" if args.early_connect else amd_engine
            attempts, timings = asyncio.run(run(pair, amd_engine, sets, args))
            figures |= report(label, attempts, timings, sets)
    print(f"\nBoth detectors, both sets ({args.rounds} rounds, {args.volunteers} volunteers):")
    print(table(figures))


if __name__ == "__main__":
    main()
