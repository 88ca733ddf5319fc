"""The results report's queries (issue 14) in the PostgreSQL store: results with their voter
and call, filtered and paged; the counts the tallies are made of, aggregated in SQL
(json_each over the answers), as engine/store/sqlite/result_reports.py does in SQLite.

SQLite's json_each names a value's type text/integer/real/true/false/null/array/object;
PostgreSQL's json_typeof says string/number/boolean/null/array/object."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from engine.models import VOTER_CARD_FIELDS, ResultStatus
from engine.store.postgresql.base import PostgresBase
from engine.store.postgresql.results import EXTRA_KEYS
from engine.store.postgresql.rows import aware, maybe_utc, utc
from engine.store.result_rows import COUNTED, ResultCounts, ResultFilter, ResultRecord, TextAnswer

_PAGE = 500
"""Records read per query: the export never holds a cursor open across an await."""

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

_QUESTIONS = " CROSS JOIN LATERAL json_each(r.answers) AS q(key, value)"

_ANSWERED = """(json_typeof(q.value) NOT IN ('null', 'array', 'object', 'string')
OR (json_typeof(q.value) = 'string' AND trim(q.value #>> '{}') <> '')
OR (json_typeof(q.value) = 'array' AND json_array_length(q.value) > 0))"""
"""A question's answer that says something: not null, not blank, not an empty choice list."""

_CHOICE_VALUES = """ CROSS JOIN LATERAL json_array_elements(CASE WHEN json_typeof(q.value) =
'array' THEN q.value ELSE json_build_array(q.value) END) AS o(value)"""
"""Each value of a choice answer (a multiple choice's list, or the one value)."""


def _where(campaign_id: int, where: ResultFilter) -> tuple[str, list[Any]]:
    conditions = where.conditions(campaign_id)
    params = [aware(v) if isinstance(v, datetime) else v for _, v in conditions]
    return " WHERE " + " AND ".join(c.format("%s") for c, _ in conditions), params


def _record(row: dict[str, Any]) -> ResultRecord:
    return ResultRecord(
        id=row["id"],
        voter={name: row[name] for name in VOTER_CARD_FIELDS},
        extra=row["extra"],
        outcome=row["outcome"],
        answered_at=maybe_utc(row["answered_at"]),
        bridged_at=maybe_utc(row["bridged_at"]),
        ended_at=maybe_utc(row["ended_at"]),
        term_code=row["term_code"],
        answers=row["answers"],
        notes=row["notes"],
        status=ResultStatus(row["status"]),
        volunteer_id=row["volunteer_id"],
        volunteer=row["volunteer"],
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
    )


class ResultReportsMixin(PostgresBase):
    async def result_page(
        self, campaign_id: int, where: ResultFilter, offset: int, limit: int
    ) -> list[ResultRecord]:
        """The results ``where`` matches, latest first, from ``offset``, at most ``limit``."""
        sql, params = _where(campaign_id, where)
        rows = await self._all(
            _RECORD + sql + " ORDER BY r.created_at DESC, r.id DESC LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        return [_record(row) for row in rows]

    async def result_records(
        self, campaign_id: int, where: ResultFilter | None = None
    ) -> AsyncIterator[ResultRecord]:
        """The results ``where`` matches (all when None), oldest first, read a page at a
        time."""
        conditions, params = _where(campaign_id, where or ResultFilter())
        sql = _RECORD + conditions + " AND r.id > %s ORDER BY r.id LIMIT %s"
        last_id = 0
        while page := await self._all(sql, [*params, last_id, _PAGE]):
            for row in page:
                yield _record(row)
            last_id = page[-1]["id"]

    async def result_extra_keys(self, campaign_id: int) -> list[str]:
        """Every extra field of the voters with a result, in the order the first voter
        having it lists it."""
        return [row["key"] for row in await self._all(EXTRA_KEYS, (campaign_id,))]

    async def result_answer_keys(self, campaign_id: int) -> list[str]:
        """Every question id the campaign's results have an answer for, in first-seen order
        (a question since removed from the survey still has its answers)."""
        rows = await self._all(
            "SELECT q.key FROM results AS r CROSS JOIN LATERAL json_each(r.answers)"
            " WITH ORDINALITY AS q(key, value, place) WHERE r.campaign_id = %s"
            " GROUP BY q.key ORDER BY min(ARRAY[r.id, q.place])",
            (campaign_id,),
        )
        return [row["key"] for row in rows]

    async def result_volunteers(self, campaign_id: int) -> list[tuple[int, str]]:
        """(id, name) of the volunteers with a result in the campaign, by name."""
        rows = await self._all(
            "SELECT vol.id, vol.name FROM volunteers AS vol WHERE EXISTS (SELECT 1 FROM results"
            " AS r WHERE r.volunteer_id = vol.id AND r.campaign_id = %s)"
            ' ORDER BY vol.name COLLATE "C", vol.id',
            (campaign_id,),
        )
        return [(row["id"], row["name"]) for row in rows]

    async def result_counts(
        self, campaign_id: int, where: ResultFilter, latest: int
    ) -> ResultCounts:
        """The counts over the results ``where`` matches (ResultCounts), with the ``latest``
        newest answers of each text question."""
        sql, params = _where(campaign_id, where)
        counted = " AND r.status = ANY(%s)"
        counted_params = [*params, [str(s) for s in COUNTED]]
        statuses = await self._all(
            "SELECT r.status AS k, count(*) AS n" + _FROM + sql + " GROUP BY 1", params
        )
        codes = await self._all(
            "SELECT r.term_code AS k, count(*) AS n" + _FROM + sql + counted + " GROUP BY 1",
            counted_params,
        )
        answers = _FROM + _QUESTIONS + sql + counted
        respondents = await self._all(
            "SELECT q.key AS k, count(DISTINCT r.id) AS n" + answers + f" AND {_ANSWERED}"
            " GROUP BY 1",
            counted_params,
        )
        choices = await self._all(
            "SELECT q.key AS k, o.value #>> '{}' AS v, count(DISTINCT r.id) AS n"
            + _FROM
            + _QUESTIONS
            + _CHOICE_VALUES
            + sql
            + counted
            + " AND json_typeof(o.value) IN ('string', 'number', 'boolean') GROUP BY 1, 2",
            counted_params,
        )
        texts = await self._all(
            "SELECT k, text, volunteer, at FROM (SELECT q.key AS k, q.value #>> '{}' AS text,"
            " vol.name AS volunteer, r.updated_at AS at, row_number() OVER (PARTITION BY q.key"
            " ORDER BY r.updated_at DESC, r.id DESC) AS place"
            + answers
            + " AND json_typeof(q.value) = 'string' AND trim(q.value #>> '{}') <> '') AS latest"
            " WHERE place <= %s ORDER BY k, place",
            [*counted_params, latest],
        )
        latest_text: dict[str, list[TextAnswer]] = {}
        for row in texts:
            latest_text.setdefault(row["k"], []).append(
                TextAnswer(row["text"], row["volunteer"], utc(row["at"]))
            )
        return ResultCounts(
            statuses={row["k"]: row["n"] for row in statuses},
            term_codes={row["k"]: row["n"] for row in codes},
            respondents={row["k"]: row["n"] for row in respondents},
            choices={(row["k"], row["v"]): row["n"] for row in choices},
            latest_text=latest_text,
        )
