"""The live check's figures: what the engine's store says about a shift, next to
bench/pacing's simulation of the same shift (bench/live_pacing.py)."""

from __future__ import annotations

import dataclasses
import os
import statistics
from collections import Counter
from datetime import datetime

from bench.live_support import ApiVolunteer, ShiftSampler, percentile, report_ms
from bench.pacing.sim import Params, RunResult, simulate
from engine.app import Engine
from engine.dialer.modes import pacing_for
from engine.dialer.pacing.model import PacingModel
from engine.models import Attempt, Campaign
from testbed.behaviours import behaviour_of


@dataclasses.dataclass
class LiveFigures:
    minutes: float
    volunteers: int
    calls: int
    live_answers: int
    abandons: int
    contacts: int
    talk_s: float
    waits: list[float]
    bridge_ready: list[float]
    """Verdict → bridge of answers whose volunteer was already ready."""
    bridge_waited: list[float]
    """Verdict → bridge of answers that waited for a volunteer to free up (under 2 s)."""
    bridge_engine: list[float]
    verdicts: Counter[tuple[str, str]]
    """(expected, got) AMD verdicts."""
    human_verdict_s: list[float]
    person_answer_s: list[float]
    peak_calls: int
    mean_calls: float
    peak_channels: tuple[int, int]
    cpu: tuple[float, float, float]

    @property
    def hours(self) -> float:
        return self.volunteers * self.minutes / 60.0

    @property
    def wrong_verdicts(self) -> int:
        return sum(n for (expected, got), n in self.verdicts.items() if expected != got)


def _in(when: datetime | None, t0: float, t1: float) -> bool:
    return when is not None and t0 <= when.timestamp() <= t1


async def measure(
    engine: Engine,
    campaign: Campaign,
    volunteers: list[ApiVolunteer],
    sampler: ShiftSampler,
    t0: float,
    t1: float,
    cpu: tuple[float, float, float],
) -> LiveFigures:
    attempts = await engine.store.list_attempts(campaign.id)
    placed = [a for a in attempts if _in(a.originated_at, t0, t1)]
    decided = [a for a in attempts if _in(a.amd_at, t0, t1)]
    people = [
        a
        for a in decided
        if a.state != "dialing" and a.outcome != "machine" and a.amd_verdict != "MACHINE"
    ]
    abandons = [a for a in people if a.bridged_at is None and a.state in ("abandoning", "ended")]
    contacts = [a for a in attempts if _in(a.bridged_at, t0, t1)]
    talk = sum(_overlap(a, t0, t1) for a in contacts)
    by_id = {a.id: a for a in attempts}
    verdicts: Counter[tuple[str, str]] = Counter()
    for a in decided:
        behaviour = behaviour_of(a.phone)
        verdicts[(behaviour.amd or "-") if behaviour else "-", a.amd_verdict] += 1
    humans = [a for a in decided if a.amd_verdict == "HUMAN" and a.answered_at and a.amd_at]
    samples = sampler.between(t0, t1)
    bridges = [
        _bridge(a, v)
        for v in volunteers
        for i, _ in v.calls
        if _in((a := by_id[i]).bridged_at, t0, t1)
    ]
    assert engine.telephony is not None
    return LiveFigures(
        minutes=(t1 - t0) / 60.0,
        volunteers=len(volunteers),
        calls=len(placed),
        live_answers=len(people),
        abandons=len(abandons),
        contacts=len(contacts),
        talk_s=talk,
        waits=[w for v in volunteers for w in _waits(v, by_id, t1)],
        bridge_ready=[b for b, waited in bridges if not waited],
        bridge_waited=[b for b, waited in bridges if waited],
        bridge_engine=list(engine.telephony.calls.bridge_latencies),
        verdicts=verdicts,
        human_verdict_s=[(a.amd_at - a.answered_at).total_seconds() for a in humans],  # type: ignore[operator]
        person_answer_s=[
            (a.answered_at - a.originated_at).total_seconds()  # type: ignore[operator]
            for a in humans
            if a.originated_at
        ],
        peak_calls=max((s.calls for s in samples), default=0),
        mean_calls=statistics.fmean(s.calls for s in samples) if samples else 0.0,
        peak_channels=(
            max((s.dialer_channels for s in samples), default=0),
            max((s.carrier_channels for s in samples), default=0),
        ),
        cpu=cpu,
    )


def _bridge(a: Attempt, volunteer: ApiVolunteer) -> tuple[float, bool]:
    """AMD verdict → bridge in seconds (store timestamps), and whether the answer had to wait
    for the volunteer to free up (they asked to be ready after the verdict): such a wait is
    the 2-second rule at work, not the engine's speed."""
    assert a.bridged_at is not None and a.amd_at is not None
    bridged = a.bridged_at.timestamp()
    ready = max((r for r in volunteer.ready_at if r <= bridged), default=0.0)
    return bridged - a.amd_at.timestamp(), ready > a.amd_at.timestamp()


def _overlap(a: Attempt, t0: float, t1: float) -> float:
    assert a.bridged_at is not None
    start = max(t0, a.bridged_at.timestamp())
    end = min(t1, a.ended_at.timestamp() if a.ended_at else t1)
    return max(0.0, end - start)


def _waits(volunteer: ApiVolunteer, attempts: dict[int, Attempt], t1: float) -> list[float]:
    """From each time the volunteer became ready to the next voter in their bridge."""
    bridged = sorted(
        b.timestamp() for i, _ in volunteer.calls if (b := attempts[i].bridged_at) is not None
    )
    waits = []
    for ready in volunteer.ready_at:
        nxt = next((b for b in bridged if b >= ready), None)
        if nxt is not None and nxt <= t1:
            waits.append(max(0.0, nxt - ready))
    return waits


def simulate_same(
    campaign: Campaign, p: Params, volunteers: int, hours: float, seeds: int
) -> dict[str, list[RunResult]]:
    """bench/pacing's simulation of this shift, with the campaign's true parameters as the
    learned model and, when they differ, with the reference model a new campaign starts
    from."""
    models = {"sim (true model)": p.model()}
    if p.model() != PacingModel() and campaign.dial_mode != "power":
        models["sim (reference model)"] = PacingModel()
    return {
        label: [
            simulate(pacing_for(campaign, model), p, volunteers, hours, seed)
            for seed in range(seeds)
        ]
        for label, model in models.items()
    }


def print_comparison(live: LiveFigures, predictions: dict[str, list[RunResult]]) -> None:
    columns = {"live": _live_row(live)} | {k: _sim_row(v) for k, v in predictions.items()}
    names = list(next(iter(columns.values())))
    print("\n| figure | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for name in names:
        print(f"| {name} | " + " | ".join(row[name] for row in columns.values()) + " |")
    seeds = len(next(iter(predictions.values())))
    print(f"(simulation: {seeds} seeds of the same length; abandons pooled over seeds)")
    print(f"\nAMD verdicts (expected, got): {dict(live.verdicts)}; wrong: {live.wrong_verdicts}")
    print(report_ms("AMD verdict -> bridge, volunteer already ready", live.bridge_ready))
    print(report_ms("AMD verdict -> bridge, answer waited for a volunteer", live.bridge_waited))
    print(report_ms("AMD verdict -> bridge, all (inside the engine)", live.bridge_engine))
    print(report_ms("person answered -> HUMAN verdict", live.human_verdict_s))
    print(report_ms("call placed -> person answered", live.person_answer_s))
    print(
        f"concurrent calls: peak {live.peak_calls}, mean {live.mean_calls:.1f}; channels peak "
        f"{live.peak_channels[0]} on the dialer PBX, {live.peak_channels[1]} on the carrier"
    )
    process, asterisk, machine = live.cpu
    print(
        f"CPU (share of one core): this process {process:.0%}, both Asterisks {asterisk:.0%}, "
        f"whole machine {machine:.0%} of {os.cpu_count()} cores"
    )


def _row(
    contacts: int,
    calls: int,
    live_answers: int,
    abandons: int,
    talk_s: float,
    hours: float,
    waits: list[float],
) -> dict[str, str]:
    return {
        "contacts": f"{contacts}",
        "contacts / volunteer-hour": f"{contacts / hours:.1f}",
        "occupancy (talk / signed in)": f"{talk_s / (3600.0 * hours):.0%}",
        "live answers": f"{live_answers}",
        "abandons": f"{abandons}",
        "abandon rate": f"{100.0 * abandons / live_answers if live_answers else 0.0:.2f} %",
        "calls placed": f"{calls}",
        "calls / contact": f"{calls / contacts:.1f}" if contacts else "-",
        "wait between calls, mean": f"{statistics.fmean(waits):.1f} s" if waits else "-",
        "wait between calls, p95": f"{percentile(sorted(waits), 95):.1f} s" if waits else "-",
    }


def _live_row(live: LiveFigures) -> dict[str, str]:
    return _row(
        live.contacts,
        live.calls,
        live.live_answers,
        live.abandons,
        live.talk_s,
        live.hours,
        live.waits,
    )


def _sim_row(runs: list[RunResult]) -> dict[str, str]:
    row = _row(
        sum(r.contacts for r in runs),
        sum(r.calls for r in runs),
        sum(r.live_answers for r in runs),
        sum(r.abandons for r in runs),
        sum(r.talk_s for r in runs),
        sum(r.volunteers * r.hours for r in runs),
        [w for r in runs for w in r.waits],
    )
    for key in ("contacts", "live answers", "abandons", "calls placed"):
        row[key] = f"{float(row[key]) / len(runs):.1f}"
    worst = max(r.abandon_rate for r in runs)
    row["abandon rate"] += f" (worst seed {100.0 * worst:.1f} %)"
    return row
