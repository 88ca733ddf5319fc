"""Reading the results report's query parameters (the Results page's filters and the export's
``choices``), with one sentence for each thing that is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from zoneinfo import ZoneInfo

from engine.errors import InvalidInput
from engine.reports.export_columns import Choices
from engine.reports.report import ResultFilter, day_range

FILTERS = ("from", "to", "volunteer", "term_code", "outcome")
"""The Results page's filter parameters: dates (YYYY-MM-DD, in the campaign's zone), the
volunteer's id, a term code and an outcome."""

_MAX_DIGITS = 15
"""Longer numbers are no id or offset SQLite could hold, so they are refused, not sent."""

_YEARS = (1970, 2999)
"""Dates outside these years are refused (the far ends of the calendar overflow in a zone)."""

_DAY_NAMES = {"from": "start date", "to": "end date"}


def export_choices(query: Mapping[str, str]) -> Choices:
    """The ``choices`` parameter (joined when absent). Raises InvalidInput."""
    value = query.get("choices", "") or Choices.JOINED
    try:
        return Choices(value)
    except ValueError:
        raise InvalidInput(
            "choices must be 'joined' (one column per question) or 'columns' (a 0/1 column "
            "per option of a multiple-choice question)"
        ) from None


def export_options(query: Mapping[str, str], zone: ZoneInfo) -> tuple[Choices, ResultFilter]:
    """The export's ``choices`` and the results it is limited to (the Results page's filter
    parameters). Raises InvalidInput."""
    return export_choices(query), result_filter(chosen_filters(query), zone)


def page_offset(query: Mapping[str, str]) -> int:
    """The ``offset`` parameter: 0 when absent or not a plain number."""
    text = query.get("offset", "")
    return int(text) if text.isdigit() and len(text) <= _MAX_DIGITS else 0


def chosen_filters(query: Mapping[str, str]) -> dict[str, str]:
    return {key: query.get(key, "").strip() for key in FILTERS}


def result_filter(chosen: Mapping[str, str], zone: ZoneInfo) -> ResultFilter:
    """The filter the page's parameters ask for. Raises InvalidInput."""
    since, until = day_range(zone, _day(chosen, "from"), _day(chosen, "to"))
    volunteer = chosen.get("volunteer", "")
    if volunteer and not (volunteer.isdigit() and len(volunteer) <= _MAX_DIGITS):
        raise InvalidInput("choose the volunteer from the list")
    return ResultFilter(
        since=since,
        until=until,
        volunteer_id=int(volunteer) if volunteer else None,
        term_code=chosen.get("term_code", ""),
        outcome=chosen.get("outcome", ""),
    )


def _day(chosen: Mapping[str, str], key: str) -> date | None:
    text = chosen.get(key, "")
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not _YEARS[0] <= day.year <= _YEARS[1]:
        raise InvalidInput(
            f"the {_DAY_NAMES[key]} must be a date like 2026-12-03 between the years "
            f"{_YEARS[0]} and {_YEARS[1]}, not '{text[:20]}'"
        )
    return day
