"""The results report's pure logic: answers with their labels, tallies and shares, the
campaign's zone, date ranges, and the export's columns (collisions, multiple choice both
ways)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.errors import InvalidInput
from engine.models import Campaign, ResultStatus, TermCode, TermCodeKind
from engine.reports.answers import AnswerLine, answer_lines, questions, with_unknown
from engine.reports.export_columns import Choices, export_columns, export_row
from engine.reports.report import day_range
from engine.reports.tallies import OptionCount, question_tallies, term_code_tally
from engine.reports.time_zone import campaign_zone, local_time, zone_name
from engine.store.result_rows import ResultCounts, ResultRecord, TextAnswer
from tests.results_seed import SURVEY

CODES = [
    TermCode("talked", "Talked to Correct Person", TermCodeKind.CONTACT),
    TermCode("refused", "Refused", TermCodeKind.CONTACT),
]
NY = ZoneInfo("America/New_York")
AT = datetime(2026, 12, 3, 19, 5, tzinfo=UTC)


def record(answers: dict[str, Any], **changes: Any) -> ResultRecord:
    fields: dict[str, Any] = {
        "id": 1,
        "voter": {"first_name": "Ann", "last_name": "Lee", "phone": "+12025550123"},
        "extra": {"notes": "from the list", "ward": "5"},
        "outcome": "contact",
        "answered_at": AT,
        "bridged_at": AT,
        "ended_at": AT,
        "term_code": "talked",
        "answers": answers,
        "notes": "call back after 6",
        "status": ResultStatus.FINAL,
        "volunteer_id": 1,
        "volunteer": "Ada Lovelace",
        "created_at": AT,
        "updated_at": AT,
        **changes,
    }
    return ResultRecord(**fields)


def test_answers_show_each_question_with_the_labels_chosen() -> None:
    answers = {"support": "yes", "issues": ["roads", "schools"], "comment": " ", "old": "x"}
    assert answer_lines(questions(SURVEY), answers) == [
        AnswerLine("Will you support Measure A?", "Yes"),
        AnswerLine("Which issues matter most?", "Roads; Schools"),
        AnswerLine("old", "x"),
    ]


def test_tallies_give_each_option_its_count_and_share_of_respondents() -> None:
    counts = ResultCounts(
        respondents={"support": 4, "issues": 3, "comment": 2},
        choices={
            ("support", "yes"): 3,
            ("support", "no"): 1,
            ("issues", "schools"): 3,
            ("issues", "roads"): 2,
            ("issues", "gone"): 1,
        },
        latest_text={"comment": [TextAnswer("Call me", "Ada", AT)]},
    )
    support, issues, comment = question_tallies(questions(SURVEY), counts)
    assert [(o.label, o.count, o.share) for o in support.options] == [
        ("Yes", 3, 75.0),
        ("No", 1, 25.0),
    ]
    assert [(o.label, o.count, o.share) for o in issues.options] == [
        ("Schools", 3, 100.0),
        ("Roads", 2, 66.7),
        ("Parks", 0, 0.0),
        ("gone", 1, 33.3),
    ], "a value no option has any more is still counted"
    assert (comment.respondents, comment.options) == (2, [])
    assert [a.text for a in comment.latest] == ["Call me"]


def test_term_code_tallies_share_the_counted_results_and_keep_unknown_codes() -> None:
    counts = ResultCounts(term_codes={"talked": 3, "old_code": 1})
    assert term_code_tally(CODES, counts) == [
        OptionCount("Talked to Correct Person", "talked", 3, 75.0),
        OptionCount("Refused", "refused", 0, 0.0),
        OptionCount("old_code", "old_code", 1, 25.0),
    ]


def test_an_empty_tally_has_no_shares() -> None:
    [support, _, _] = question_tallies(questions(SURVEY), ResultCounts())
    assert [(o.count, o.share) for o in support.options] == [(0, 0.0), (0, 0.0)]


@pytest.mark.parametrize(
    ("setting", "voters", "zone"),
    [
        ("Europe/Berlin", {"America/New_York": 9}, "Europe/Berlin"),
        ("", Counter({"America/Chicago": 2, "America/New_York": 5}), "America/New_York"),
        ("", {"America/Chicago": 3, "America/Denver": 3}, "America/Chicago"),
        ("Not/AZone", {"America/Denver": 1}, "America/Denver"),
        ("", {}, "UTC"),
    ],
)
def test_the_campaign_zone_is_its_setting_else_most_voters_else_utc(
    setting: str, voters: dict[str, int], zone: str
) -> None:
    campaign = Campaign(id=1, name="Fall", time_zone=setting)
    assert campaign_zone(campaign, voters).key == zone


def test_times_for_people_name_their_zone() -> None:
    assert local_time(AT, NY) == "Dec 3, 2026, 2:05 p.m. EST"
    assert zone_name(NY, AT) == "America/New_York (EST)"
    assert zone_name(ZoneInfo("UTC"), AT) == "UTC"


def test_a_date_range_runs_from_midnight_to_midnight_in_the_campaign_zone() -> None:
    since, until = day_range(NY, date(2026, 12, 2), date(2026, 12, 3))
    assert since == datetime(2026, 12, 2, 5, tzinfo=UTC)
    assert until == datetime(2026, 12, 4, 5, tzinfo=UTC)
    assert day_range(NY, None, None) == (None, None)
    with pytest.raises(InvalidInput, match="the end date is before the start date"):
        day_range(NY, date(2026, 12, 3), date(2026, 12, 2))


def test_a_voter_column_named_like_a_result_column_is_kept_under_a_prefix() -> None:
    extra = ["notes", "Status", "voter_notes", "ward"]
    names = [c.name for c in export_columns(questions(SURVEY), extra, Choices.JOINED)]
    assert len(names) == len({n.casefold() for n in names}), names
    assert names.index("voter_notes") < names.index("notes")
    assert {"voter_Status", "voter_voter_notes", "ward", "status"} <= set(names)
    cells = dict(
        zip(
            names,
            export_row(
                export_columns(questions(SURVEY), extra, Choices.JOINED),
                questions(SURVEY),
                CODES,
                record({"support": "no"}),
                NY,
            ),
            strict=True,
        )
    )
    assert (cells["voter_notes"], cells["notes"]) == ("from the list", "call back after 6")


def test_a_question_named_like_a_result_column_is_exported_as_answer() -> None:
    survey = questions([{"id": "notes", "text": "Notes?", "kind": "text"}])
    names = [c.name for c in export_columns(survey, [], Choices.JOINED)]
    assert "answer_notes" in names and names.count("notes") == 1


def test_the_export_row_has_labels_codes_status_and_times_in_the_zone() -> None:
    survey = questions(SURVEY)
    columns = export_columns(survey, ["ward"], Choices.JOINED)
    answers = {"support": "yes", "issues": ["schools", "parks"], "comment": "Hi"}
    row = record(answers, status=ResultStatus.TIMED_OUT)
    values = export_row(columns, survey, CODES, row, NY)
    cells = dict(zip([c.name for c in columns], values, strict=True))
    assert (cells["support"], cells["issues"], cells["comment"]) == ("Yes", "Schools; Parks", "Hi")
    assert (cells["term_code"], cells["term_code_label"]) == ("talked", "Talked to Correct Person")
    assert (cells["status"], cells["volunteer"], cells["ward"]) == (
        "timed out",
        "Ada Lovelace",
        "5",
    )
    assert (cells["created_at"], cells["time_zone"]) == (
        "2026-12-03T14:05:00-05:00",
        "America/New_York",
    )


def test_multiple_choice_as_columns_has_a_0_or_1_column_per_option() -> None:
    survey = questions(SURVEY)
    columns = export_columns(survey, [], Choices.COLUMNS)
    names = [c.name for c in columns]
    assert "issues" not in names
    assert [n for n in names if n.startswith("issues")] == [
        "issues:schools",
        "issues:roads",
        "issues:parks",
    ]
    answered = record({"issues": ["parks"]})
    cells = dict(zip(names, export_row(columns, survey, CODES, answered, NY), strict=True))
    assert (cells["issues:schools"], cells["issues:parks"], cells["support"]) == (0, 1, "")
    unanswered = record({})
    cells = dict(zip(names, export_row(columns, survey, CODES, unanswered, NY), strict=True))
    assert cells["issues:parks"] == "", "a question not asked is blank, not 0"


def test_answers_to_a_question_removed_from_the_survey_keep_a_column() -> None:
    survey = with_unknown(questions(SURVEY), ["support", "gone"])
    names = [c.name for c in export_columns(survey, [], Choices.JOINED)]
    assert "gone" in names
