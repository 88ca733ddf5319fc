"""The Results page's content: the tallies and one page of results matching the operator's
filters, with times in the campaign's zone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.clock import utc_now
from engine.errors import InvalidInput
from engine.models import Campaign, ResultStatus
from engine.reports.answers import AnswerLine, answer_lines, questions
from engine.reports.tallies import OptionCount, QuestionTally, question_tallies, term_code_tally
from engine.reports.time_zone import campaign_zone, local_time, zone_name
from engine.store.base import Store
from engine.store.result_rows import COUNTED, ResultRecord
from engine.store.result_rows import ResultFilter as ResultFilter  # for web/: the filter

PAGE_SIZE = 100
"""Results shown per page; the export has them all."""
LATEST_TEXT = 3
"""Newest answers shown for each text question."""

STATUS_LABELS = {
    ResultStatus.FINAL: "final",
    ResultStatus.TIMED_OUT: "timed out",
    ResultStatus.DRAFT: "being entered",
}


@dataclass(frozen=True)
class ReportRow:
    record: ResultRecord
    time: str
    term_code: str
    """The term code's label."""
    status: str
    answers: list[AnswerLine]


@dataclass(frozen=True)
class ResultsReport:
    zone: str
    """The campaign's zone, named ("America/New_York (EST)")."""
    matched: int
    """Results the filters match, drafts included."""
    counted: int
    """... of which final or timed out: what the tallies count."""
    being_entered: int
    timed_out: int
    questions: list[QuestionTally]
    term_codes: list[OptionCount]
    rows: list[ReportRow]
    offset: int


def day_range(
    zone: ZoneInfo, first: date | None, last: date | None
) -> tuple[datetime | None, datetime | None]:
    """From the start of ``first`` to the end of ``last`` in ``zone``, as the filter's since
    and until (either None when not given). Raises InvalidInput when last is before first."""
    if first is not None and last is not None and last < first:
        raise InvalidInput("the end date is before the start date: choose an end on or after it")
    since = None if first is None else datetime.combine(first, time(), zone)
    until = None if last is None else datetime.combine(last + timedelta(days=1), time(), zone)
    return since, until


async def report_zone(store: Store, campaign: Campaign) -> ZoneInfo:
    return campaign_zone(campaign, await store.voter_zones(campaign.id))


async def results_report(
    store: Store, campaign: Campaign, zone: ZoneInfo, where: ResultFilter, offset: int
) -> ResultsReport:
    survey = questions(campaign.survey)
    counts = await store.result_counts(campaign.id, where, LATEST_TEXT)
    records = await store.result_page(campaign.id, where, offset, PAGE_SIZE)
    labels = {t.code: t.label for t in campaign.term_codes}
    rows = [
        ReportRow(
            record,
            local_time(record.created_at, zone),
            labels.get(record.term_code, record.term_code),
            STATUS_LABELS.get(record.status, str(record.status)),
            answer_lines(survey, record.answers),
        )
        for record in records
    ]
    return ResultsReport(
        zone=zone_name(zone, utc_now()),
        matched=sum(counts.statuses.values()),
        counted=sum(counts.statuses.get(str(s), 0) for s in COUNTED),
        being_entered=counts.statuses.get(str(ResultStatus.DRAFT), 0),
        timed_out=counts.statuses.get(str(ResultStatus.TIMED_OUT), 0),
        questions=question_tallies(survey, counts),
        term_codes=term_code_tally(campaign.term_codes, counts),
        rows=rows,
        offset=offset,
    )


def pages(matched: int, offset: int) -> Sequence[int | None]:
    """(previous page's offset, next page's offset), None where there is none."""
    previous = max(offset - PAGE_SIZE, 0) if offset > 0 else None
    following = offset + PAGE_SIZE if offset + PAGE_SIZE < matched else None
    return previous, following
