"""The results report's queries (issue 14): results with their voter and call, filtered and
paged; the counts the tallies are made of, aggregated in SQL (json_each over the answers) so a
large campaign's page does not read every result; and the zones of a campaign's voters."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from functools import partial
from typing import Any

from engine.models import VOTER_CARD_FIELDS, ResultStatus
from engine.store.result_rows import COUNTED, ResultCounts, ResultFilter, ResultRecord, TextAnswer
from engine.store.sqlite.base import SqliteBase
from engine.store.sqlite.rows import from_iso, to_iso
from engine.store.sqlite.worker import on_worker

_PAGE = 500
"""Export rows read per query: the export never holds a cursor open across an await."""

_FROM = """
FROM results AS r
JOIN attempts AS a ON a.id = r.attempt_id
JOIN voters AS v ON v.id = r.voter_id
JOIN volunteers AS vol ON vol.id = r.volunteer_id"""

_RECORD = (
    "SELECT r.id, "
    + ", ".join(f"v.{name}" for name in VOTER_CARD_FIELDS)
    + ", v.extra, a.outcome, a.answered_at, a.bridged_at, a.ended_at, r.term_code, r.answers,"
    " r.notes, r.status, r.volunteer_id, vol.name AS volunteer, r.created_at, r.updated_at" + _FROM
)

_EXTRA_KEYS = """
SELECT j.key FROM results AS r JOIN voters AS v ON v.id = r.voter_id, json_each(v.extra) AS j
WHERE r.campaign_id = ?
GROUP BY j.key
ORDER BY min(printf('%012d %012d', v.id, j.id))"""

_ANSWERED = """(q.type NOT IN ('null', 'array', 'object', 'text') OR (q.type = 'text' AND
trim(q.value) <> '') OR (q.type = 'array' AND json_array_length(q.value) > 0))"""
"""A question's answer that says something: not null, not blank, not an empty choice list."""

_CHOICE_VALUES = """json_each(CASE WHEN q.type = 'array' THEN q.value ELSE json_array(q.value)
END) AS o"""


def _where(campaign_id: int, where: ResultFilter) -> tuple[str, list[Any]]:
    conditions = where.conditions(campaign_id)
    params = [to_iso(v) if isinstance(v, datetime) else v for _, v in conditions]
    return " WHERE " + " AND ".join(c.format("?") for c, _ in conditions), params


def _record(row: dict[str, Any]) -> ResultRecord:
    return ResultRecord(
        id=row["id"],
        voter={name: row[name] for name in VOTER_CARD_FIELDS},
        extra=json.loads(row["extra"]),
        outcome=row["outcome"],
        answered_at=from_iso(row["answered_at"]),
        bridged_at=from_iso(row["bridged_at"]),
        ended_at=from_iso(row["ended_at"]),
        term_code=row["term_code"],
        answers=json.loads(row["answers"]),
        notes=row["notes"],
        status=ResultStatus(row["status"]),
        volunteer_id=row["volunteer_id"],
        volunteer=row["volunteer"],
        created_at=_time(row["created_at"]),
        updated_at=_time(row["updated_at"]),
    )


def _time(text: str) -> datetime:
    when = from_iso(text)
    assert when is not None
    return when


class ResultReportsMixin(SqliteBase):
    @on_worker
    def result_page(
        self, campaign_id: int, where: ResultFilter, offset: int, limit: int
    ) -> list[ResultRecord]:
        """The results ``where`` matches, latest first, from ``offset``, at most ``limit``."""
        sql, params = _where(campaign_id, where)
        rows = self._all(
            _RECORD + sql + " ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_record(row) for row in rows]

    async def result_records(
        self, campaign_id: int, where: ResultFilter | None = None
    ) -> AsyncIterator[ResultRecord]:
        """The results ``where`` matches (all when None), oldest first, read a page at a
        time."""
        conditions, params = _where(campaign_id, where or ResultFilter())
        sql = _RECORD + conditions + " AND r.id > ? ORDER BY r.id LIMIT ?"
        last_id = 0
        while page := await self.worker.run(partial(self._all, sql, [*params, last_id, _PAGE])):
            for row in page:
                yield _record(row)
            last_id = page[-1]["id"]

    @on_worker
    def result_extra_keys(self, campaign_id: int) -> list[str]:
        """Every extra field of the voters with a result, in the order the first voter
        having it lists it."""
        return [row["key"] for row in self._all(_EXTRA_KEYS, (campaign_id,))]

    @on_worker
    def result_answer_keys(self, campaign_id: int) -> list[str]:
        """Every question id the campaign's results have an answer for, in first-seen order
        (a question since removed from the survey still has its answers)."""
        rows = self._all(
            "SELECT q.key FROM results AS r, json_each(r.answers) AS q WHERE r.campaign_id = ?"
            " GROUP BY q.key ORDER BY min(printf('%012d %012d', r.id, q.id))",
            (campaign_id,),
        )
        return [row["key"] for row in rows]

    @on_worker
    def result_volunteers(self, campaign_id: int) -> list[tuple[int, str]]:
        """(id, name) of the volunteers with a result in the campaign, by name."""
        rows = self._all(
            "SELECT DISTINCT vol.id, vol.name FROM results AS r JOIN volunteers AS vol "
            "ON vol.id = r.volunteer_id WHERE r.campaign_id = ? ORDER BY vol.name, vol.id",
            (campaign_id,),
        )
        return [(row["id"], row["name"]) for row in rows]

    @on_worker
    def result_counts(self, campaign_id: int, where: ResultFilter, latest: int) -> ResultCounts:
        """The counts over the results ``where`` matches (ResultCounts), with the ``latest``
        newest answers of each text question."""
        sql, params = _where(campaign_id, where)
        counted = " AND r.status IN (" + ", ".join("?" * len(COUNTED)) + ")"
        counted_params = [*params, *(str(s) for s in COUNTED)]
        statuses = self._all(
            "SELECT r.status AS k, count(*) AS n" + _FROM + sql + " GROUP BY 1", params
        )
        codes = self._all(
            "SELECT r.term_code AS k, count(*) AS n" + _FROM + sql + counted + " GROUP BY 1",
            counted_params,
        )
        questions = _FROM + ", json_each(r.answers) AS q"
        answers = questions + sql + counted
        respondents = self._all(
            "SELECT q.key AS k, count(DISTINCT r.id) AS n" + answers + f" AND {_ANSWERED}"
            " GROUP BY 1",
            counted_params,
        )
        choices = self._all(
            "SELECT q.key AS k, o.value AS v, count(DISTINCT r.id) AS n"
            + questions
            + ", "
            + _CHOICE_VALUES
            + sql
            + counted
            + " AND o.type IN ('text', 'integer', 'real', 'true', 'false') GROUP BY 1, 2",
            counted_params,
        )
        texts = self._all(
            "SELECT k, text, volunteer, at FROM (SELECT q.key AS k, q.value AS text,"
            " vol.name AS volunteer, r.updated_at AS at, row_number() OVER (PARTITION BY q.key"
            " ORDER BY r.updated_at DESC, r.id DESC) AS place"
            + answers
            + " AND q.type = 'text' AND trim(q.value) <> '') WHERE place <= ? ORDER BY k, place",
            [*counted_params, latest],
        )
        latest_text: dict[str, list[TextAnswer]] = {}
        for row in texts:
            latest_text.setdefault(row["k"], []).append(
                TextAnswer(row["text"], row["volunteer"], _time(row["at"]))
            )
        return ResultCounts(
            statuses={row["k"]: row["n"] for row in statuses},
            term_codes={row["k"]: row["n"] for row in codes},
            respondents={row["k"]: row["n"] for row in respondents},
            choices={(row["k"], _choice(row["v"])): row["n"] for row in choices},
            latest_text=latest_text,
        )


def _choice(value: Any) -> str:
    """An answer value as the text a survey option's value is compared with."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
