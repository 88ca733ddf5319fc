"""bench/amd_accuracy.py's figures: what the attempts of a live AMD run say, per evaluation set.

Pure: given the attempts as the store gives them, the greeting each number plays (testbed/
amd_survey.py ``SurveyVoter``, by the number's last four digits) and the streaming tap's
timings, ``set_figures`` computes one set's figures and ``table`` lays several side by side.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.live_support import percentile
from engine.amd.timing import TapTiming
from engine.models import Attempt
from testbed.amd_survey import SurveyVoter


def cause_ms(cause: str) -> int | None:
    """The audio time (ms) a streaming cause ends with ("GREETING-1120" → 1120), or None."""
    tail = cause.rsplit("-", 1)[-1]
    return int(tail) if "-" in cause and tail.isdigit() else None


def first_verdict(attempt: Attempt, timing: TapTiming | None) -> str:
    """The detector's first verdict. The attempt keeps the final one: a HUMAN taken back during
    the retraction window becomes MACHINE, decided later in the audio than the tap's first
    decision (``timing.decided_ms``). app_amd (no timing) decides once."""
    final = attempt.amd_verdict
    if final != "MACHINE" or timing is None or timing.decided_ms is None:
        return final
    ms = cause_ms(attempt.amd_cause)
    return "HUMAN" if ms is not None and ms > timing.decided_ms else final


@dataclass(frozen=True)
class SetFigures:
    """One evaluation set's figures on live calls with one detector."""

    calls: int
    right: int
    right_first: int
    people: int
    machines: int
    people_machine_first: int
    people_machine_final: int
    people_notsure: int
    machines_human_first: int
    machines_human_final: int
    machines_notsure: int
    """Machines left NOTSURE: the campaign's NOTSURE rule decides (the default puts them
    through as people)."""
    machines_heard: int
    heard_for: list[float]
    to_human: list[float]
    to_bridged: list[float]
    to_machine: list[float]
    wrong: list[str]
    """One line per call whose final verdict is not the expected one."""


def set_figures(
    attempts: Sequence[Attempt],
    voters: Mapping[str, SurveyVoter],
    timings: Mapping[str, TapTiming],
) -> SetFigures:
    """The figures of the ``attempts`` whose number's last four digits are in ``voters``."""
    mine = [(a, voters[a.phone[-4:]]) for a in attempts if a.phone[-4:] in voters]
    first = {a.id: first_verdict(a, timings.get(a.channel_id or "")) for a, _ in mine}
    people = [a for a, v in mine if v.expected == "HUMAN"]
    machines = [a for a, v in mine if v.expected == "MACHINE"]
    heard = [a for a in machines if a.heard_machine]
    return SetFigures(
        calls=len(mine),
        right=sum(a.amd_verdict == v.expected for a, v in mine),
        right_first=sum(first[a.id] == v.expected for a, v in mine),
        people=len(people),
        machines=len(machines),
        people_machine_first=sum(first[a.id] == "MACHINE" for a in people),
        people_machine_final=sum(a.amd_verdict == "MACHINE" for a in people),
        people_notsure=sum(a.amd_verdict == "NOTSURE" for a in people),
        machines_human_first=sum(first[a.id] == "HUMAN" for a in machines),
        machines_human_final=sum(a.amd_verdict == "HUMAN" for a in machines),
        machines_notsure=sum(a.amd_verdict == "NOTSURE" for a in machines),
        machines_heard=len(heard),
        heard_for=_spans(heard, "bridged_at", "amd_at"),
        to_human=_spans([a for a in people if a.amd_verdict == "HUMAN"], "answered_at", "amd_at"),
        to_bridged=_spans(people, "answered_at", "bridged_at"),
        to_machine=_spans(
            [a for a in machines if a.amd_verdict == "MACHINE"], "answered_at", "amd_at"
        ),
        wrong=[
            f"{a.phone} ({v.kind}) expected {v.expected}: {a.amd_verdict} ({a.amd_cause}); "
            f"{a.outcome}, {'bridged' if a.bridged_at else 'not bridged'}"
            for a, v in mine
            if a.amd_verdict != v.expected
        ],
    )


def by_kind(
    attempts: Sequence[Attempt],
    voters: Mapping[str, SurveyVoter],
    timings: Mapping[str, TapTiming],
) -> dict[str, str]:
    """Per kind of greeting: its first and final verdicts, counted ("H=5 M=1 → M=6")."""
    counts: dict[str, tuple[Counter[str], Counter[str]]] = {}
    for a in attempts:
        voter = voters.get(a.phone[-4:])
        if voter is None:
            continue
        first, final = counts.setdefault(voter.kind, (Counter(), Counter()))
        first[first_verdict(a, timings.get(a.channel_id or ""))[:1] or "?"] += 1
        final[a.amd_verdict[:1] or "?"] += 1

    def shown(c: Counter[str]) -> str:
        return " ".join(f"{v}={n}" for v, n in sorted(c.items()))

    return {kind: f"{shown(first)} → {shown(final)}" for kind, (first, final) in counts.items()}


def _spans(attempts: Sequence[Attempt], start: str, end: str) -> list[float]:
    """Seconds from one stamp to another, for the attempts that have both."""
    spans = []
    for a in attempts:
        t0, t1 = getattr(a, start), getattr(a, end)
        if t0 is not None and t1 is not None:
            spans.append((t1 - t0).total_seconds())
    return spans


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def _median_p95(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{statistics.median(ordered):.2f} s / {percentile(ordered, 95):.2f} s"


def rows(f: SetFigures) -> dict[str, str]:
    """The figures of one column of the table, by row name."""
    return {
        "calls (people / machines)": f"{f.calls} ({f.people} / {f.machines})",
        "accuracy, final verdict": f"{_pct(f.right, f.calls)} ({f.right}/{f.calls})",
        "accuracy, first verdict": f"{_pct(f.right_first, f.calls)} ({f.right_first}/{f.calls})",
        "people called MACHINE (first / final)": (
            f"{f.people_machine_first} / {f.people_machine_final}"
        ),
        "people NOTSURE": f"{f.people_notsure}",
        "machines passed as people, first": (
            f"{f.machines_human_first} ({_pct(f.machines_human_first, f.machines)})"
        ),
        "machines passed as people, final": (
            f"{f.machines_human_final} ({_pct(f.machines_human_final, f.machines)})"
        ),
        "machines NOTSURE (the campaign's rule decides)": f"{f.machines_notsure}",
        "machines a volunteer heard, then taken back (heard for, median)": (
            f"{f.machines_heard}"
            + (f" ({statistics.median(f.heard_for):.2f} s)" if f.heard_for else "")
        ),
        "answer → HUMAN verdict, median / p95": _median_p95(f.to_human),
        "answer → bridged, median / p95": _median_p95(f.to_bridged),
        "answer → MACHINE verdict, median / p95": _median_p95(f.to_machine),
    }


def table(columns: Mapping[str, SetFigures]) -> str:
    """A markdown table: one row per figure, one column per (detector, set) label."""
    by_column = {label: rows(f) for label, f in columns.items()}
    names = list(rows(next(iter(columns.values())))) if columns else []
    lines = [
        "| figure | " + " | ".join(by_column) + " |",
        "|---|" + "---|" * len(by_column),
    ]
    lines += [
        f"| {name} | " + " | ".join(c[name] for c in by_column.values()) + " |" for name in names
    ]
    return "\n".join(lines)
