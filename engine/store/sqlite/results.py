"""Call results (term code, survey answers, notes), their edit history and the CSV export.

A result starts as a DRAFT while the volunteer types (updated in place, no history); it
becomes FINAL when sent with Next (its created_at is then the moment it was first saved for
good), or TIMED_OUT when the wrap-up ended without Next (close_draft). Editing a FINAL or
TIMED_OUT result keeps the previous version in the history and makes it FINAL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from engine.errors import Conflict
from engine.models import VOTER_CARD_FIELDS, Attempt, Result, ResultStatus, Session
from engine.store.sqlite.base import SqliteBase, immediate
from engine.store.sqlite.rows import decode, encode_record, from_iso, to_iso, to_json
from engine.store.sqlite.worker import on_worker

_PAGE = 500
"""Export rows read per query: the export never holds a cursor open across an await."""

_VOTER_COLUMNS = VOTER_CARD_FIELDS
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

_VOTER_SELECT = ", ".join(f"v.{name}" for name in _VOTER_COLUMNS)

_EXPORT = f"""
SELECT r.id AS result_id, {_VOTER_SELECT}, v.extra,
       a.outcome, a.answered_at, a.bridged_at, a.ended_at,
       r.term_code, r.answers, r.notes, vol.name AS volunteer, r.updated_at
FROM results AS r
JOIN voters AS v ON v.id = r.voter_id
JOIN attempts AS a ON a.id = r.attempt_id
JOIN volunteers AS vol ON vol.id = r.volunteer_id
WHERE r.campaign_id = ? AND r.id > ?
ORDER BY r.id
LIMIT ?"""

HISTORY_KEPT = 20
"""Earlier versions kept per result: the oldest are dropped, so repeated edits cannot grow
the database without bound (the result itself and its latest corrections are what matter)."""

_TRIM_HISTORY = """
DELETE FROM result_history WHERE result_id = ? AND id NOT IN (
    SELECT id FROM result_history WHERE result_id = ? ORDER BY id DESC LIMIT ?)"""

_EXTRA_KEYS = """
SELECT j.key FROM results AS r JOIN voters AS v ON v.id = r.voter_id, json_each(v.extra) AS j
WHERE r.campaign_id = ?
GROUP BY j.key
ORDER BY min(printf('%012d %012d', v.id, j.id))"""
"""Every extra field of the exported voters, in the order the first voter having it lists it."""


class ResultsMixin(SqliteBase):
    @on_worker
    def save_result(
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
        with immediate(self.conn) as conn:
            row = self._one("SELECT * FROM results WHERE attempt_id = ?", (attempt_id,))
            if row is None:
                result_id = self._new_result(
                    attempt_id, session_id, term_code, answers, notes, now, ResultStatus.FINAL
                )
            else:
                result_id = row["id"]
                if row["status"] != ResultStatus.DRAFT:
                    self._keep_version(row, now)
                    created = row["created_at"]
                else:
                    created = to_iso(now)  # first saved for good now, not at the first keystroke
                conn.execute(
                    "UPDATE results SET term_code = ?, answers = ?, notes = ?, status = ?, "
                    "created_at = ?, updated_at = ? WHERE id = ?",
                    (
                        term_code,
                        to_json(dict(answers)),
                        notes,
                        ResultStatus.FINAL.value,
                        created,
                        to_iso(now),
                        result_id,
                    ),
                )
            return decode(Result, self._get("results", result_id, "result"))

    @on_worker
    def save_draft(
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
        with immediate(self.conn) as conn:
            row = self._one("SELECT * FROM results WHERE attempt_id = ?", (attempt_id,))
            if row is None:
                result_id = self._new_result(
                    attempt_id, session_id, term_code, answers, notes, now, ResultStatus.DRAFT
                )
            elif row["status"] != ResultStatus.DRAFT:
                raise Conflict(
                    "this call's result is already saved: change it with PUT /api/session/result"
                )
            else:
                result_id = row["id"]
                conn.execute(
                    "UPDATE results SET term_code = ?, answers = ?, notes = ?, updated_at = ? "
                    "WHERE id = ?",
                    (term_code, to_json(dict(answers)), notes, to_iso(now), result_id),
                )
            return decode(Result, self._get("results", result_id, "result"))

    @on_worker
    def close_draft(self, attempt_id: int, now: datetime) -> Result | None:
        """The wrap-up ended without Next: the attempt's draft becomes TIMED_OUT (created_at
        and updated_at ``now``), except an empty one (no term code, answers or notes), which
        is deleted. Returns the attempt's result afterwards (whatever its status), or None."""
        with immediate(self.conn) as conn:
            row = self._one("SELECT * FROM results WHERE attempt_id = ?", (attempt_id,))
            if row is None or row["status"] != ResultStatus.DRAFT:
                return None if row is None else decode(Result, row)
            if not row["term_code"] and not json.loads(row["answers"]) and not row["notes"].strip():
                conn.execute("DELETE FROM results WHERE id = ?", (row["id"],))
                return None
            conn.execute(
                "UPDATE results SET status = ?, created_at = ?, updated_at = ? WHERE id = ?",
                (ResultStatus.TIMED_OUT.value, to_iso(now), to_iso(now), row["id"]),
            )
            return decode(Result, self._get("results", row["id"], "result"))

    @on_worker
    def open_drafts(self) -> list[Result]:
        """Every DRAFT result, oldest first (after a restart: drafts whose wrap-up is over)."""
        rows = self._all(
            "SELECT * FROM results WHERE status = ? ORDER BY id", (ResultStatus.DRAFT.value,)
        )
        return [decode(Result, row) for row in rows]

    def _new_result(
        self,
        attempt_id: int,
        session_id: int,
        term_code: str,
        answers: Mapping[str, Any],
        notes: str,
        now: datetime,
        status: ResultStatus,
    ) -> int:
        attempt = decode(Attempt, self._get("attempts", attempt_id, "call attempt"))
        session = decode(Session, self._get("sessions", session_id, "session"))
        return self._insert(
            "results",
            encode_record(
                Result(
                    id=0,
                    attempt_id=attempt_id,
                    voter_id=attempt.voter_id,
                    campaign_id=attempt.campaign_id,
                    session_id=session_id,
                    volunteer_id=session.volunteer_id,
                    term_code=term_code,
                    answers=dict(answers),
                    notes=notes,
                    created_at=now,
                    updated_at=now,
                    status=status,
                )
            ),
        )

    def _keep_version(self, row: Mapping[str, Any], now: datetime) -> None:
        """Put the result's current version in its history (the last HISTORY_KEPT kept)."""
        keys = ("term_code", "notes", "session_id", "volunteer_id", "updated_at", "status")
        old = {name: row[name] for name in keys}
        old["answers"] = json.loads(row["answers"])
        self._insert(
            "result_history",
            {"result_id": row["id"], "edited_at": to_iso(now), "version": to_json(old)},
        )
        self.conn.execute(_TRIM_HISTORY, (row["id"], row["id"], HISTORY_KEPT))

    @on_worker
    def result_for_attempt(self, attempt_id: int) -> Result | None:
        row = self._one("SELECT * FROM results WHERE attempt_id = ?", (attempt_id,))
        return None if row is None else decode(Result, row)

    @on_worker
    def result_history(self, result_id: int) -> list[dict[str, Any]]:
        """Earlier versions, oldest first: term_code, answers, notes, session_id, volunteer_id,
        updated_at (when that version was saved) and edited_at (when it was replaced)."""
        rows = self._all(
            "SELECT edited_at, version FROM result_history WHERE result_id = ? ORDER BY id",
            (result_id,),
        )
        history = []
        for row in rows:
            version = json.loads(row["version"])
            version.update(
                updated_at=from_iso(version["updated_at"]), edited_at=from_iso(row["edited_at"])
            )
            history.append(version)
        return history

    async def results(self, campaign_id: int) -> AsyncIterator[dict[str, Any]]:
        """Export rows, one per result, oldest first, read a page at a time. Keys: the voter's
        first_name, last_name, phone, address, city, state, zip, party, age; then every extra
        field of the exported voters under its own name ('' where a voter lacks it); then
        outcome, answered_at, bridged_at, ended_at (ISO-8601 UTC text or None), term_code,
        answers (JSON text), notes, volunteer (the name), updated_at. Every row has the same
        keys in the same order, ready for csv.DictWriter."""
        fixed = {*_VOTER_COLUMNS, *_CALL_COLUMNS}
        keys = await self.worker.run(partial(self._all, _EXTRA_KEYS, (campaign_id,)))
        extra_keys = [row["key"] for row in keys if row["key"] not in fixed]
        last_id = 0
        while page := await self.worker.run(
            partial(self._all, _EXPORT, (campaign_id, last_id, _PAGE))
        ):
            for row in page:
                extra = json.loads(row["extra"])
                yield {
                    **{name: row[name] for name in _VOTER_COLUMNS},
                    **{key: extra.get(key, "") for key in extra_keys},
                    **{name: row[name] for name in _CALL_COLUMNS},
                }
            last_id = page[-1]["result_id"]
