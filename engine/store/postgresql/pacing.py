"""What pacing learns from, and what it has learned, in the PostgreSQL store."""

from __future__ import annotations

from datetime import datetime

from engine.models import Attempt, ResultStatus
from engine.store.postgresql.base import PostgresBase
from engine.store.postgresql.rows import aware, decode


class PacingMixin(PostgresBase):
    async def ended_attempts(
        self, campaign_id: int, ended_after: datetime | None, limit: int, after_id: int = 0
    ) -> list[Attempt]:
        """Attempts that ended after ``ended_after`` (all when None), or at that moment with
        an id above ``after_id``; earliest end first, then by id."""
        rows = await self._all(
            "SELECT * FROM attempts WHERE campaign_id = %(campaign)s AND ended_at IS NOT NULL "
            "AND (%(after)s::timestamptz IS NULL OR ended_at > %(after)s "
            "OR (ended_at = %(after)s AND id > %(id)s)) "
            "ORDER BY ended_at, id LIMIT %(limit)s",
            {
                "campaign": campaign_id,
                "after": None if ended_after is None else aware(ended_after),
                "id": after_id,
                "limit": limit,
            },
        )
        return [decode(Attempt, row) for row in rows]

    async def wrap_ups(
        self, campaign_id: int, after_result_id: int, limit: int
    ) -> list[tuple[int, float]]:
        """(result id, seconds from the call's end to its first saved result) for results
        after ``after_result_id``, in id order, up to the first one still a draft (it is
        learned once it is saved: drafts are numbered when the volunteer starts typing)."""
        rows = await self._all(
            "SELECT r.id, r.created_at, r.status, a.ended_at FROM results AS r "
            "JOIN attempts AS a ON a.id = r.attempt_id "
            "WHERE r.campaign_id = %s AND r.id > %s "
            "ORDER BY r.id LIMIT %s",
            (campaign_id, after_result_id, limit),
        )
        out = []
        for row in rows:
            if row["status"] == ResultStatus.DRAFT:
                break
            if row["ended_at"] is None:
                continue  # saved while the call was still on: no wrap-up to learn
            out.append((row["id"], (row["created_at"] - row["ended_at"]).total_seconds()))
        return out

    async def placed_attempts(
        self, campaign_id: int, from_id: int, since: datetime, limit: int
    ) -> list[Attempt]:
        """The campaign's attempts from id ``from_id`` on, ended or not, in id order, leaving
        out those that ended before ``since`` below the first one placed since then (as the
        SQLite store: engine/store/sqlite/pacing.py). The start is found through the indexes
        attempts_campaign_ended and attempts_campaign_open; then a primary-key range."""
        first = await self._one(
            "SELECT least("
            "(SELECT id FROM attempts WHERE campaign_id = %(campaign)s "
            "AND ended_at >= %(since)s ORDER BY ended_at LIMIT 1), "
            "(SELECT min(id) FROM attempts WHERE campaign_id = %(campaign)s "
            "AND state <> 'ended')) AS id",
            {"campaign": campaign_id, "since": aware(since)},
        )
        if first is None or first["id"] is None:
            return []
        rows = await self._all(
            "SELECT * FROM attempts WHERE id >= %(from)s AND campaign_id = %(campaign)s "
            "ORDER BY id LIMIT %(limit)s",
            {"campaign": campaign_id, "from": max(from_id, int(first["id"])), "limit": limit},
        )
        return [decode(Attempt, row) for row in rows]

    async def load_pacing(self, campaign_id: int) -> str | None:
        """The campaign's learned pacing data (JSON text), None if nothing was saved."""
        row = await self._one(
            "SELECT learned FROM pacing_models WHERE campaign_id = %s", (campaign_id,)
        )
        return None if row is None else str(row["learned"])

    async def save_pacing(self, campaign_id: int, learned: str, now: datetime) -> None:
        await self._execute(
            "INSERT INTO pacing_models (campaign_id, learned, updated_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (campaign_id) DO UPDATE SET learned = excluded.learned, "
            "updated_at = excluded.updated_at",
            (campaign_id, learned, aware(now)),
        )
