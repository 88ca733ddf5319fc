"""The results export's columns and the cells of one row.

The voter's columns come first (the card fields, then the list's own extra columns), then the
result's: the call, the term code's raw code and label, the status, one column per survey
question, notes, volunteer and times. No column is dropped: a voter column named like a result
column (compared without case) is kept under a "voter_" prefix (``notes`` -> ``voter_notes``),
and a question whose id is a result column's name is exported as "answer_<id>".

A multiple-choice question is one column with the chosen labels joined with "; " (JOINED), or
one 0/1 column per option named "<question id>:<option value>" (COLUMNS)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from engine.models import VOTER_CARD_FIELDS, TermCode
from engine.reports.answers import Question, answer_text, chosen
from engine.store.result_rows import ResultRecord

CALL_COLUMNS = (
    "outcome",
    "answered_at",
    "bridged_at",
    "ended_at",
    "term_code",
    "term_code_label",
    "status",
)
LAST_COLUMNS = ("notes", "volunteer", "created_at", "updated_at", "time_zone")
VOTER_PREFIX = "voter_"
ANSWER_PREFIX = "answer_"


class Choices(StrEnum):
    """How a multiple-choice answer is exported (the ``choices`` query parameter)."""

    JOINED = "joined"
    COLUMNS = "columns"


@dataclass(frozen=True)
class Column:
    name: str
    """The header cell."""
    source: str
    """voter, extra, call, question, choice or last."""
    key: str
    """The voter field, extra key, question id or result column it shows."""
    option: str = ""
    """A choice column's option value."""


def export_columns(
    survey: Sequence[Question], extra_keys: Iterable[str], choices: Choices
) -> list[Column]:
    """Every column of the export, in order, each with a unique name."""
    taken: set[str] = set()
    result = [_claim(Column(name, "call", name), taken) for name in CALL_COLUMNS]
    reserved = {*CALL_COLUMNS, *LAST_COLUMNS}
    for question in survey:
        name = ANSWER_PREFIX + question.id if question.id.casefold() in reserved else question.id
        if choices is Choices.COLUMNS and question.kind == "multiple":
            result += [
                _claim(Column(f"{name}:{o.value}", "choice", question.id, o.value), taken)
                for o in question.options
            ]
        else:
            result.append(_claim(Column(name, "question", question.id), taken, ANSWER_PREFIX))
    taken |= {name.casefold() for name in LAST_COLUMNS}
    last = [Column(name, "last", name) for name in LAST_COLUMNS]
    voter = [Column(name, "voter", name) for name in VOTER_CARD_FIELDS]
    voter += [Column(key, "extra", key) for key in extra_keys]
    return [_claim(column, taken) for column in voter] + result + last


def _claim(column: Column, taken: set[str], prefix: str = VOTER_PREFIX) -> Column:
    """The column under a name no other column has: ``prefix`` added until it is unique."""
    name = column.name
    while name.casefold() in taken:
        name = prefix + name
    taken.add(name.casefold())
    return Column(name, column.source, column.key, column.option)


def export_row(
    columns: Sequence[Column],
    survey: Sequence[Question],
    term_codes: Sequence[TermCode],
    record: ResultRecord,
    zone: ZoneInfo,
) -> list[Any]:
    """One result's cells, under ``columns``; times in ``zone`` (ISO 8601 with the offset)."""
    by_id = {q.id: q for q in survey}
    labels = {t.code: t.label for t in term_codes}
    call = {
        "outcome": record.outcome or "",
        "answered_at": _time(record.answered_at, zone),
        "bridged_at": _time(record.bridged_at, zone),
        "ended_at": _time(record.ended_at, zone),
        "term_code": record.term_code,
        "term_code_label": labels.get(record.term_code, record.term_code),
        "status": str(record.status),
        "notes": record.notes,
        "volunteer": record.volunteer,
        "created_at": _time(record.created_at, zone),
        "updated_at": _time(record.updated_at, zone),
        "time_zone": zone.key,
    }
    cells: list[Any] = []
    for column in columns:
        if column.source == "voter":
            cells.append(record.voter.get(column.key))
        elif column.source == "extra":
            cells.append(record.extra.get(column.key, ""))
        elif column.source == "question":
            answer = record.answers.get(column.key)
            cells.append(answer_text(by_id[column.key], answer) if answer is not None else "")
        elif column.source == "choice":
            answer = record.answers.get(column.key)
            cells.append("" if answer is None else int(column.option in chosen(answer)))
        else:
            cells.append(call[column.key])
    return cells


def _time(when: datetime | None, zone: ZoneInfo) -> str:
    return "" if when is None else when.astimezone(zone).isoformat(timespec="seconds")
