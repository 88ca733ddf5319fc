"""The pacing tables, as markdown (docs/performance.md quotes them)."""

from __future__ import annotations

from collections.abc import Sequence

from bench.pacing.sim import RunResult
from bench.pacing.worlds import Row

TABLE_POLICIES = (
    "manual",
    "power-1",
    "power-3",
    "vicidial",
    "predictive",
    "predictive, no guard",
    "learning cold",
    "learning warm",
    "learning cold, no guard",
    "learning warm, no guard",
    "oracle",
)
SMALL_POLICIES = ("manual", "power-1", "predictive", "learning cold", "learning warm")
DRIFT_POLICIES = ("told the truth", "learning cold")
"""With the campaign's default settings: its half-hour guard on
(engine/dialer/pacing/half_hour.py)."""
NO_GUARD_POLICIES = ("told the truth, no guard", "learning cold, no guard")
"""The same with the guard turned off (--no-guard)."""


def cell(rows: Sequence[Row], name: str, n: int, world: str) -> list[RunResult]:
    return [r for nm, nn, w, r in rows if (nm, nn, w) == (name, n, world)]


def p95(xs: list[float]) -> float:
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, int(0.95 * len(s)))]


def pooled(runs: list[RunResult]) -> tuple[float, float, float, float, float, float, float]:
    vol_h = sum(r.volunteers * r.hours for r in runs)
    contacts = sum(r.contacts for r in runs)
    waits = [w for r in runs for w in r.waits]
    live = sum(r.live_answers for r in runs)
    return (
        contacts / vol_h,
        sum(r.talk_s for r in runs) / (vol_h * 3600.0),
        sum(waits) / len(waits) if waits else 0.0,
        p95(waits),
        100.0 * sum(r.abandons for r in runs) / live if live else 0.0,
        100.0 * max(r.abandon_rate for r in runs),
        sum(r.calls for r in runs) / contacts if contacts else 0.0,
    )


def _label(world: str) -> str:
    try:
        return f"{float(world):.0%}"
    except ValueError:
        return world


def print_table(rows: Sequence[Row], rates: Sequence[str], volunteers: Sequence[int]) -> None:
    print(
        "| contact | N | policy | contacts/vol-h | vs told the truth | occupancy | wait mean s "
        "| wait p95 s | abandon % | worst run % | calls/contact | share of oracle |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for rate in rates:
        for n in volunteers:
            oracle = pooled(cell(rows, "oracle", n, rate))[0]
            truth = cell(rows, "predictive", n, rate)
            true_cph = pooled(truth)[0] if truth else 0.0
            for name in TABLE_POLICIES:
                runs = cell(rows, name, n, rate)
                if not runs:
                    continue
                cph, occ, wmean, wp95, ab, worst, cpc = pooled(runs)
                compared = name != "predictive" and ("learning" in name or "predictive" in name)
                versus = f"{cph / true_cph - 1:+.1%}" if compared and true_cph else ""
                print(
                    f"| {_label(rate)} | {n} | {name} | {cph:.1f} | {versus} | {occ:.0%} "
                    f"| {wmean:.0f} | {wp95:.0f} | {ab:.2f} | {worst:.2f} | {cpc:.1f} "
                    f"| {cph / oracle:.0%} |"
                )
    print()


def print_small(rows: Sequence[Row], rates: Sequence[str], volunteers: Sequence[int]) -> None:
    """Small teams: predictive (told the truth, and learning) against power and preview."""
    print("Small teams: contacts per volunteer-hour (abandon %, pooled)\n")
    print("| contact | N | " + " | ".join(SMALL_POLICIES) + " | most contacts |")
    print("|---|---|" + "---|" * (len(SMALL_POLICIES) + 1))
    for rate in rates:
        for n in volunteers:
            figures = {}
            cells = []
            for name in SMALL_POLICIES:
                runs = cell(rows, name, n, rate)
                if not runs:
                    cells.append("")
                    continue
                cph, _, _, _, ab, _, _ = pooled(runs)
                figures[name] = cph
                cells.append(f"{cph:.1f} ({ab:.2f} %)")
            best = max(figures, key=lambda k: figures[k]) if figures else ""
            print(f"| {_label(rate)} | {n} | " + " | ".join(cells) + f" | {best} |")
    print()


def _drift_line(first: str, runs: list[RunResult]) -> str:
    """`first`: the leading cells, then contacts, 8-hour abandons (pooled and the worst run)
    and the worst 30-minute window of any run."""
    cph, _, _, _, ab, worst, _ = pooled(runs)
    window = 100.0 * max(r.worst_window() for r in runs)
    return f"| {first} | {cph:.1f} | {ab:.2f} | {worst:.2f} | {window:.2f} |"


def print_drift(rows: Sequence[Row], volunteers: Sequence[int]) -> None:
    print("Drifting worlds (predictive): step 10 % → 20 % → 5 %; smooth 7 % → 17 % → 7 %\n")
    print(
        "| world | N | policy | contacts/vol-h | 8-hour abandon % (pooled) | worst 8-hour run % "
        "| worst 30-min window % |"
    )
    print("|---|---|---|---|---|---|---|")
    for world in ("step", "smooth"):
        for n in volunteers:
            for name in DRIFT_POLICIES + NO_GUARD_POLICIES:
                runs = cell(rows, name, n, world)
                if runs:
                    print(_drift_line(f"{world} | {n} | {name}", runs))
    print()


def print_windows(rows: Sequence[Row], volunteers: Sequence[int], windows: Sequence[float]) -> None:
    print("The learning window's trade-off (step world, learning from scratch)\n")
    print(
        "| window | N | contacts/vol-h | 8-hour abandon % (pooled) | worst 8-hour run % "
        "| worst 30-min window % |"
    )
    print("|---|---|---|---|---|---|")
    for window in windows:
        label = f"{window / 60:g} min"
        name = "learning cold" if window == 1800.0 else f"learning cold {label}"
        for n in volunteers:
            runs = cell(rows, name, n, "step")
            if runs:
                print(_drift_line(f"{label} | {n}", runs))
    print()
