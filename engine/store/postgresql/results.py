"""Call results (term code, survey answers, notes), their edit history and the CSV export, in
the PostgreSQL store (the life of a result: engine/store/sqlite/results.py).

Every write to an attempt's result first locks the attempt's row, so two saves of one result
(an engine's wrap-up deadline and the volunteer's Next) take turns, as in SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

from engine.errors import Conflict, NotFound
from engine.models import VOTER_CARD_FIELDS, Result, ResultStatus
from engine.store.postgresql.base import Connection, PostgresBase, fetch_one, get_row
from engine.store.postgresql.rows import aware, decode, encode_record, to_json

_PAGE = 500
"""Export rows read per query: the export never holds a cursor open across an await."""

_CALL_COLUMNS = (
    "outcome",
    "answered_at",
    "bridged_at",
    "ended_at",
    "term_code",
    "answers",
    "notes",
    "volunteer",
    "updated_at",
)
_TIMES = ("answered_at", "bridged_at", "ended_at", "updated_at")
"""Export columns given as ISO-8601 UTC text, as the SQLite store stores them."""

_EXPORT = f"""
SELECT r.id AS result_id, {", ".join(f"v.{name}" for name in VOTER_CARD_FIELDS)}, v.extra,
       a.outcome, a.answered_at, a.bridged_at, a.ended_at,
       r.term_code, r.answers::text AS answers, r.notes, vol.name AS volunteer, r.updated_at
FROM results AS r
JOIN voters AS v ON v.id = r.voter_id
JOIN attempts AS a ON a.id = r.attempt_id
JOIN volunteers AS vol ON vol.id = r.volunteer_id
WHERE r.campaign_id = %s AND r.id > %s
ORDER BY r.id
LIMIT %s"""

EXTRA_KEYS = """
SELECT j.key FROM results AS r JOIN voters AS v ON v.id = r.voter_id
CROSS JOIN LATERAL json_each(v.extra) WITH ORDINALITY AS j(key, value, place)
WHERE r.campaign_id = %s
GROUP BY j.key
ORDER BY min(ARRAY[v.id, j.place])"""
"""Every extra field of the exported voters, in the order the first voter having it lists it."""

HISTORY_KEPT = 20
"""Earlier versions kept per result (as in the SQLite store)."""

_TRIM_HISTORY = """
DELETE FROM result_history WHERE result_id = %(result)s AND id NOT IN (
    SELECT id FROM result_history WHERE result_id = %(result)s ORDER BY id DESC LIMIT %(kept)s)"""


class ResultsMixin(PostgresBase):
    async def save_result(
        self,
        attempt_id: int,
        session_id: int,
        term_code: str,
        answers: Mapping[str, Any],
        notes: str,
        now: datetime,
    ) -> Result:
        """Create the attempt's FINAL result (voter and campaign from the attempt, volunteer
        from the session); or finish its draft in place; or edit its term code, answers and
        notes, keeping the previous version in the history (the last HISTORY_KEPT versions).
        Raises NotFound for an unknown attempt or session."""
        async with self._transaction() as conn:
            row = await _locked_result(conn, attempt_id)
            if row is None:
                return await _new_result(
                    conn, attempt_id, session_id, term_code, answers, notes, now, ResultStatus.FINAL
                )
            if row["status"] != ResultStatus.DRAFT:
                await _keep_version(conn, row, now)
                created = row["created_at"]
            else:
                created = aware(now)  # first saved for good now, not at the first keystroke
            updated = await fetch_one(
                conn,
                "UPDATE results SET term_code = %s, answers = %s, notes = %s, status = %s, "
                "created_at = %s, updated_at = %s WHERE id = %s RETURNING *",
                (
                    term_code,
                    to_json(dict(answers)),
                    notes,
                    ResultStatus.FINAL.value,
                    created,
                    aware(now),
                    row["id"],
                ),
            )
            assert updated is not None
            return decode(Result, updated)

    async def save_draft(
        self,
        attempt_id: int,
        session_id: int,
        term_code: str,
        answers: Mapping[str, Any],
        notes: str,
        now: datetime,
    ) -> Result:
        """Create or update in place the attempt's DRAFT result (no history: a draft is what
        is being typed). ``term_code`` may be '' (none chosen yet). Raises Conflict when the
        attempt's result was already saved (FINAL or TIMED_OUT), NotFound for an unknown
        attempt or session."""
        async with self._transaction() as conn:
            row = await _locked_result(conn, attempt_id)
            if row is None:
                return await _new_result(
                    conn, attempt_id, session_id, term_code, answers, notes, now, ResultStatus.DRAFT
                )
            if row["status"] != ResultStatus.DRAFT:
                raise Conflict(
                    "this call's result is already saved: change it with PUT /api/session/result"
                )
            updated = await fetch_one(
                conn,
                "UPDATE results SET term_code = %s, answers = %s, notes = %s, updated_at = %s "
                "WHERE id = %s RETURNING *",
                (term_code, to_json(dict(answers)), notes, aware(now), row["id"]),
            )
            assert updated is not None
            return decode(Result, updated)

    async def close_draft(self, attempt_id: int, now: datetime) -> Result | None:
        """The wrap-up ended without Next: the attempt's draft becomes TIMED_OUT (created_at
        and updated_at ``now``), except an empty one (no term code, answers or notes), which
        is deleted. Returns the attempt's result afterwards (whatever its status), or None."""
        async with self._transaction() as conn:
            try:
                row = await _locked_result(conn, attempt_id)
            except NotFound:
                return None
            if row is None or row["status"] != ResultStatus.DRAFT:
                return None if row is None else decode(Result, row)
            if not row["term_code"] and not row["answers"] and not row["notes"].strip():
                await conn.execute("DELETE FROM results WHERE id = %s", (row["id"],))
                return None
            updated = await fetch_one(
                conn,
                "UPDATE results SET status = %s, created_at = %s, updated_at = %s WHERE id = %s "
                "RETURNING *",
                (ResultStatus.TIMED_OUT.value, aware(now), aware(now), row["id"]),
            )
            assert updated is not None
            return decode(Result, updated)

    async def open_drafts(self) -> list[Result]:
        """Every DRAFT result, oldest first (after a restart: drafts whose wrap-up is over)."""
        rows = await self._all(
            "SELECT * FROM results WHERE status = %s ORDER BY id", (ResultStatus.DRAFT.value,)
        )
        return [decode(Result, row) for row in rows]

    async def result_for_attempt(self, attempt_id: int) -> Result | None:
        row = await self._one("SELECT * FROM results WHERE attempt_id = %s", (attempt_id,))
        return None if row is None else decode(Result, row)

    async def result_history(self, result_id: int) -> list[dict[str, Any]]:
        """Earlier versions, oldest first: term_code, answers, notes, session_id, volunteer_id,
        updated_at (when that version was saved) and edited_at (when it was replaced)."""
        rows = await self._all(
            "SELECT edited_at, version FROM result_history WHERE result_id = %s ORDER BY id",
            (result_id,),
        )
        history = []
        for row in rows:
            version = dict(row["version"])
            version.update(
                updated_at=datetime.fromisoformat(version["updated_at"]).astimezone(UTC),
                edited_at=row["edited_at"].astimezone(UTC),
            )
            history.append(version)
        return history

    async def results(self, campaign_id: int) -> AsyncIterator[dict[str, Any]]:
        """Export rows, one per result, oldest first, read a page at a time; the same keys
        as the SQLite store's (engine/store/sqlite/results.py), times as ISO-8601 UTC text
        and answers as JSON text."""
        fixed = {*VOTER_CARD_FIELDS, *_CALL_COLUMNS}
        keys = await self._all(EXTRA_KEYS, (campaign_id,))
        extra_keys = [row["key"] for row in keys if row["key"] not in fixed]
        last_id = 0
        while page := await self._all(_EXPORT, (campaign_id, last_id, _PAGE)):
            for row in page:
                yield {
                    **{name: row[name] for name in VOTER_CARD_FIELDS},
                    **{key: row["extra"].get(key, "") for key in extra_keys},
                    **{name: _export_value(name, row[name]) for name in _CALL_COLUMNS},
                }
            last_id = page[-1]["result_id"]


def _export_value(name: str, value: Any) -> Any:
    if name in _TIMES and value is not None:
        return aware(value).isoformat(timespec="microseconds")
    return value


async def _locked_result(conn: Connection, attempt_id: int) -> dict[str, Any] | None:
    """The attempt's result, after locking the attempt (its result's writes take turns).
    Raises NotFound for an unknown attempt."""
    await get_row(conn, "attempts", attempt_id, "call attempt", lock=True)
    return await fetch_one(conn, "SELECT * FROM results WHERE attempt_id = %s", (attempt_id,))


async def _new_result(
    conn: Connection,
    attempt_id: int,
    session_id: int,
    term_code: str,
    answers: Mapping[str, Any],
    notes: str,
    now: datetime,
    status: ResultStatus,
) -> Result:
    attempt = await get_row(conn, "attempts", attempt_id, "call attempt")
    session = await get_row(conn, "sessions", session_id, "session")
    record = encode_record(
        Result(
            id=0,
            attempt_id=attempt_id,
            voter_id=attempt["voter_id"],
            campaign_id=attempt["campaign_id"],
            session_id=session_id,
            volunteer_id=session["volunteer_id"],
            term_code=term_code,
            answers=dict(answers),
            notes=notes,
            created_at=now,
            updated_at=now,
            status=status,
        )
    )
    row = await fetch_one(
        conn,
        f"INSERT INTO results ({', '.join(record)}) VALUES ({', '.join(['%s'] * len(record))})"
        " RETURNING *",
        list(record.values()),
    )
    assert row is not None
    return decode(Result, row)


async def _keep_version(conn: Connection, row: Mapping[str, Any], now: datetime) -> None:
    """Put the result's current version in its history (the last HISTORY_KEPT kept)."""
    keys = ("term_code", "notes", "session_id", "volunteer_id", "updated_at", "status")
    old = {name: row[name] for name in keys}
    old["answers"] = row["answers"]
    await conn.execute(
        "INSERT INTO result_history (result_id, edited_at, version) VALUES (%s, %s, %s)",
        (row["id"], aware(now), to_json(old)),
    )
    await conn.execute(_TRIM_HISTORY, {"result": row["id"], "kept": HISTORY_KEPT})
