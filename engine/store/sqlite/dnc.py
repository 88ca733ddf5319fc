"""The do-not-call lists in the SQLite store: one per campaign, and the global one."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engine.models import DncEntry, VoterStatus
from engine.store.sqlite.base import SqliteBase, immediate
from engine.store.sqlite.rows import decode, to_iso
from engine.store.sqlite.worker import on_worker

_ON_LIST = "phone = ? AND (campaign_id IS NULL OR campaign_id = ?)"
"""A phone on a campaign's list or the global one."""
_WITH_NAMES = (
    "SELECT dnc.*, volunteers.name AS volunteer_name FROM dnc"
    " LEFT JOIN sessions ON dnc.created_by = 'session ' || sessions.id"
    " LEFT JOIN volunteers ON volunteers.id = sessions.volunteer_id"
)
"""Entries with the name of the volunteer whose session added them (Remove Number)."""


class DncMixin(SqliteBase):
    @on_worker
    def add_dnc(
        self, phone: str, campaign_id: int | None, reason: str, by: str, now: datetime
    ) -> None:
        """Put ``phone`` on the campaign's list (None: the global list). Idempotent: adding it
        again keeps the first reason. Pending/retry voters with this phone (in that campaign,
        or in every campaign for the global list) become DNC; a voter in flight is not
        touched (claim_voters skips listed phones anyway). Raises NotFound for an unknown
        campaign."""
        self._add_many([phone], campaign_id, reason, by, now)

    @on_worker
    def add_dnc_many(
        self, phones: Sequence[str], campaign_id: int | None, reason: str, by: str, now: datetime
    ) -> int:
        """add_dnc for each of ``phones`` in one transaction; returns how many were not on
        the list yet. Raises NotFound for an unknown campaign."""
        return self._add_many(phones, campaign_id, reason, by, now)

    def _add_many(
        self, phones: Sequence[str], campaign_id: int | None, reason: str, by: str, now: datetime
    ) -> int:
        added = 0
        scope = "" if campaign_id is None else "AND campaign_id = ?"
        with immediate(self.conn) as conn:
            if campaign_id is not None:
                self._get("campaigns", campaign_id, "campaign")
            for phone in phones:
                added += conn.execute(
                    "INSERT OR IGNORE INTO dnc (phone, campaign_id, reason, created_at, "
                    "created_by) VALUES (?, ?, ?, ?, ?)",
                    (phone, campaign_id, reason, to_iso(now), by),
                ).rowcount
                conn.execute(
                    f"UPDATE voters SET status = ? WHERE phone = ? AND status IN (?, ?) {scope}",
                    (
                        VoterStatus.DNC.value,
                        phone,
                        VoterStatus.PENDING.value,
                        VoterStatus.RETRY.value,
                        *(() if campaign_id is None else (campaign_id,)),
                    ),
                )
        return added

    @on_worker
    def remove_dnc(self, phone: str, campaign_id: int | None) -> bool:
        """Take ``phone`` off the campaign's list (None: the global list); False if it was not
        on it. Voters already marked DNC stay DNC: removal does not resurrect them."""
        with immediate(self.conn) as conn:
            cursor = conn.execute(
                "DELETE FROM dnc WHERE phone = ? AND campaign_id IS ?", (phone, campaign_id)
            )
            return cursor.rowcount > 0

    @on_worker
    def is_dnc(self, phone: str, campaign_id: int) -> bool:
        """On the campaign's list or the global one."""
        return self._one(f"SELECT 1 FROM dnc WHERE {_ON_LIST}", (phone, campaign_id)) is not None

    @on_worker
    def list_dnc(self, campaign_id: int | None = None) -> list[DncEntry]:
        """The campaign's list, or with None the global list; oldest first, each entry with
        who added it by name."""
        rows = self._all(
            f"{_WITH_NAMES} WHERE dnc.campaign_id IS ? ORDER BY dnc.id", (campaign_id,)
        )
        return [_entry(row) for row in rows]

    @on_worker
    def dnc_phones(self, campaign_id: int) -> set[str]:
        """Every phone on the campaign's list or the global one (for import)."""
        rows = self._all(
            "SELECT phone FROM dnc WHERE campaign_id IS NULL OR campaign_id = ?", (campaign_id,)
        )
        return {row["phone"] for row in rows}


def _entry(row: dict[str, Any]) -> DncEntry:
    volunteer = row.get("volunteer_name")
    return dataclasses.replace(
        decode(DncEntry, row),
        added_by=volunteer or row["created_by"],
        added_by_volunteer=volunteer is not None,
    )
