"""bench/amd_accuracy.py's per-set figures (bench/amd_live_figures.py): which verdict was the
detector's first, and what each set's attempts add up to."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.amd_accuracy import voters_csv
from bench.amd_live_figures import by_kind, cause_ms, first_verdict, set_figures, table
from engine.amd.timing import TapTiming
from engine.models import Attempt, CallState
from testbed.amd_survey import SurveyVoter

T0 = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
PERSON = SurveyVoter("hard", "50", 3, "late", "HUMAN")
MACHINE = SurveyVoter("hard", "50", 40, "sit", "MACHINE")
TODAY = SurveyVoter("today", "20", 1, "machine", "MACHINE")
VOTERS = {v.digits: v for v in (PERSON, MACHINE)}


def attempt(n: int, voter: SurveyVoter, verdict: str, cause: str, **fields: Any) -> Attempt:
    return Attempt(
        id=n,
        campaign_id=1,
        voter_id=n,
        phone=f"+1202555{voter.digits}",
        state=CallState.ENDED,
        channel_id=f"ch-{n}",
        answered_at=T0,
        amd_verdict=verdict,
        amd_cause=cause,
        **fields,
    )


def test_a_streaming_cause_ends_with_its_audio_time() -> None:
    assert cause_ms("SHORTGREETING-1120") == 1120
    assert cause_ms("EARLY-640") == 640
    assert cause_ms("HUMAN") is None
    assert cause_ms("") is None


def test_a_machine_taken_back_was_first_a_person() -> None:
    """The attempt keeps the final verdict; the tap's first decision came earlier in the audio."""
    taken_back = attempt(1, MACHINE, "MACHINE", "MANYWORDS-2900", heard_machine=True)
    timing = TapTiming("ch-1", 0.0, decided_ms=900)
    assert first_verdict(taken_back, timing) == "HUMAN"
    at_once = attempt(2, MACHINE, "MACHINE", "SIT-900")
    assert first_verdict(at_once, TapTiming("ch-2", 0.0, decided_ms=900)) == "MACHINE"
    assert first_verdict(at_once, None) == "MACHINE"  # app_amd decides once
    person = attempt(3, PERSON, "HUMAN", "GREETING-700")
    assert first_verdict(person, TapTiming("ch-3", 0.0, decided_ms=700)) == "HUMAN"


def test_a_sets_figures_count_only_its_own_numbers() -> None:
    attempts = [
        attempt(
            1,
            PERSON,
            "HUMAN",
            "SHORTGREETING-3100",
            amd_at=T0 + timedelta(seconds=3.1),
            bridged_at=T0 + timedelta(seconds=3.2),
        ),
        attempt(
            2,
            MACHINE,
            "MACHINE",
            "MANYWORDS-2500",
            amd_at=T0 + timedelta(seconds=2.5),
            bridged_at=T0 + timedelta(seconds=1.0),
            heard_machine=True,
        ),
        attempt(3, MACHINE, "HUMAN", "GREETING-800", amd_at=T0 + timedelta(seconds=0.8)),
        attempt(4, TODAY, "MACHINE", "LONGGREETING-2200", amd_at=T0 + timedelta(seconds=2.2)),
        attempt(5, MACHINE, "NOTSURE", "TOOLONG-5000", amd_at=T0 + timedelta(seconds=5.0)),
    ]
    timings = {"ch-2": TapTiming("ch-2", 0.0, decided_ms=900)}
    f = set_figures(attempts, VOTERS, timings)
    assert (f.calls, f.people, f.machines) == (4, 1, 3)
    assert (f.right, f.right_first) == (2, 1)
    assert (f.machines_human_first, f.machines_human_final, f.machines_heard) == (2, 1, 1)
    assert f.heard_for == [1.5]
    assert f.to_human == [3.1] and f.to_bridged == [3.2] and f.to_machine == [2.5]
    assert (f.people_machine_first, f.people_machine_final, f.people_notsure) == (0, 0, 0)
    assert f.machines_notsure == 1
    assert f.wrong == [
        "+12025555040 (sit) expected MACHINE: HUMAN (GREETING-800); None, not bridged",
        "+12025555040 (sit) expected MACHINE: NOTSURE (TOOLONG-5000); None, not bridged",
    ]


def test_the_table_puts_each_column_side_by_side() -> None:
    one = set_figures([attempt(1, PERSON, "HUMAN", "GREETING-700")], VOTERS, {})
    text = table({"app_amd, hard": one, "streaming, hard": one}).splitlines()
    assert text[0] == "| figure | app_amd, hard | streaming, hard |"
    assert "| accuracy, final verdict | 100.0 % (1/1) | 100.0 % (1/1) |" in text
    assert "| answer → MACHINE verdict, median / p95 | - | - |" in text


def test_the_bench_dials_every_greeting_of_each_set_once_per_round_in_its_own_area_code() -> None:
    sets = {"today": {TODAY.digits: TODAY}, "hard": VOTERS}
    text = voters_csv(sets, 2).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["phone"] for r in rows] == [
        "+12025552001",
        "+12025555003",
        "+12025555040",
        "+12035552001",
        "+12035555003",
        "+12035555040",
    ]
    assert all(None not in r for r in rows)  # no stray field


def test_each_kind_shows_its_first_and_final_verdicts() -> None:
    attempts = [
        attempt(1, MACHINE, "MACHINE", "MANYWORDS-2900"),
        attempt(2, MACHINE, "MACHINE", "SIT-300"),
        attempt(3, PERSON, "HUMAN", "GREETING-700"),
    ]
    timings = {"ch-1": TapTiming("ch-1", 0.0, decided_ms=900)}
    assert by_kind(attempts, VOTERS, timings) == {"sit": "H=1 M=1 → M=2", "late": "H=1 → H=1"}
