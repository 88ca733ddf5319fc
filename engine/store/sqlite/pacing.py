"""What pacing learns from, and what it has learned, in the SQLite store."""

from __future__ import annotations

from datetime import datetime

from engine.models import Attempt, ResultStatus
from engine.store.sqlite.base import SqliteBase, immediate
from engine.store.sqlite.rows import decode, from_iso, to_iso
from engine.store.sqlite.worker import on_worker


class PacingMixin(SqliteBase):
    @on_worker
    def ended_attempts(
        self, campaign_id: int, ended_after: datetime | None, limit: int, after_id: int = 0
    ) -> list[Attempt]:
        """Attempts that ended after ``ended_after`` (all when None), or at that moment with
        an id above ``after_id``; earliest end first, then by id."""
        rows = self._all(
            "SELECT * FROM attempts WHERE campaign_id = :campaign AND ended_at IS NOT NULL "
            "AND (:after IS NULL OR ended_at > :after OR (ended_at = :after AND id > :id)) "
            "ORDER BY ended_at, id LIMIT :limit",
            {
                "campaign": campaign_id,
                "after": None if ended_after is None else to_iso(ended_after),
                "id": after_id,
                "limit": limit,
            },
        )
        return [decode(Attempt, row) for row in rows]

    @on_worker
    def placed_attempts(
        self, campaign_id: int, from_id: int, since: datetime, limit: int
    ) -> list[Attempt]:
        """The campaign's attempts from id ``from_id`` on, ended or not, in id order, leaving
        out those that ended before ``since`` below the first one placed since then (pacing
        passes the oldest call whose kind it does not know yet, seconds old, or 0 when it has
        read nothing; after a pause it skips ahead). Reads a range of the primary key, its
        start found through the indexes attempts_campaign_ended and attempts_campaign_open."""
        first = self._first_attempt_since(campaign_id, since)
        if first <= 0:
            return []
        rows = self._all(
            "SELECT * FROM attempts WHERE id >= :from AND +campaign_id = :campaign "
            "ORDER BY id LIMIT :limit",
            {"campaign": campaign_id, "from": max(from_id, first), "limit": limit},
        )
        return [decode(Attempt, row) for row in rows]

    def _first_attempt_since(self, campaign_id: int, since: datetime) -> int:
        """About the lowest id among the campaign's attempts ended since ``since`` or still
        open: every call placed since then is one of those, and has a higher id than the first
        to end since then (it was claimed before it ended). 0 if there is none."""
        ended = self._one(
            "SELECT id FROM attempts INDEXED BY attempts_campaign_ended "
            "WHERE campaign_id = ? AND ended_at >= ? ORDER BY ended_at LIMIT 1",
            (campaign_id, to_iso(since)),
        )
        open_ = self._one(
            "SELECT min(id) AS id FROM attempts INDEXED BY attempts_campaign_open "
            "WHERE campaign_id = ? AND state != 'ended'",
            (campaign_id,),
        )
        ids = [int(row["id"]) for row in (ended, open_) if row and row["id"] is not None]
        return min(ids, default=0)

    @on_worker
    def wrap_ups(
        self, campaign_id: int, after_result_id: int, limit: int
    ) -> list[tuple[int, float]]:
        """(result id, seconds from the call's end to its first saved result) for results
        after ``after_result_id``, in id order, up to the first one still a draft (it is
        learned once it is saved: drafts are numbered when the volunteer starts typing)."""
        rows = self._all(
            "SELECT r.id, r.created_at, r.status, a.ended_at FROM results AS r "
            "JOIN attempts AS a ON a.id = r.attempt_id "
            "WHERE r.campaign_id = ? AND r.id > ? "
            "ORDER BY r.id LIMIT ?",
            (campaign_id, after_result_id, limit),
        )
        out = []
        for row in rows:
            if row["status"] == ResultStatus.DRAFT:
                break
            if row["ended_at"] is None:
                continue  # saved while the call was still on: no wrap-up to learn
            saved, ended = from_iso(row["created_at"]), from_iso(row["ended_at"])
            assert saved is not None and ended is not None
            out.append((row["id"], (saved - ended).total_seconds()))
        return out

    @on_worker
    def load_pacing(self, campaign_id: int) -> str | None:
        """The campaign's learned pacing data (JSON text), None if nothing was saved."""
        row = self._one("SELECT learned FROM pacing_models WHERE campaign_id = ?", (campaign_id,))
        return None if row is None else str(row["learned"])

    @on_worker
    def save_pacing(self, campaign_id: int, learned: str, now: datetime) -> None:
        with immediate(self.conn):
            self.conn.execute(
                "INSERT INTO pacing_models (campaign_id, learned, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (campaign_id) DO UPDATE SET learned = excluded.learned, "
                "updated_at = excluded.updated_at",
                (campaign_id, learned, to_iso(now)),
            )
