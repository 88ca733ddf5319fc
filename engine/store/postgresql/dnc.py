"""The do-not-call lists in the PostgreSQL store: one per campaign, and the global one."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engine.models import DncEntry, VoterStatus
from engine.store.postgresql.base import PostgresBase, fetch_one, get_row
from engine.store.postgresql.rows import aware, decode

_WITH_NAMES = (
    "SELECT dnc.*, volunteers.name AS volunteer_name FROM dnc"
    " LEFT JOIN sessions ON dnc.created_by = 'session ' || sessions.id"
    " LEFT JOIN volunteers ON volunteers.id = sessions.volunteer_id"
)
"""Entries with the name of the volunteer whose session added them (Remove Number)."""

_ADD = """
WITH listed AS (
    INSERT INTO dnc (phone, campaign_id, reason, created_at, created_by)
    SELECT phone, %(campaign)s, %(reason)s, %(now)s, %(by)s
    FROM unnest(%(phones)s::text[]) WITH ORDINALITY AS given(phone, place)
    GROUP BY phone
    ORDER BY min(place)
    ON CONFLICT DO NOTHING
    RETURNING 1)
SELECT count(*) AS added FROM listed"""
"""Each phone not listed yet, in the order given (ids follow it, as list_dnc does)."""


class DncMixin(PostgresBase):
    async def add_dnc(
        self, phone: str, campaign_id: int | None, reason: str, by: str, now: datetime
    ) -> None:
        """Put ``phone`` on the campaign's list (None: the global list). Idempotent: adding it
        again keeps the first reason. Pending/retry voters with this phone (in that campaign,
        or in every campaign for the global list) become DNC; a voter in flight is not
        touched (claim_voters skips listed phones anyway). Raises NotFound for an unknown
        campaign."""
        await self._add_many([phone], campaign_id, reason, by, now)

    async def add_dnc_many(
        self, phones: Sequence[str], campaign_id: int | None, reason: str, by: str, now: datetime
    ) -> int:
        """add_dnc for each of ``phones`` in one transaction; returns how many were not on
        the list yet. Raises NotFound for an unknown campaign."""
        return await self._add_many(phones, campaign_id, reason, by, now)

    async def _add_many(
        self, phones: Sequence[str], campaign_id: int | None, reason: str, by: str, now: datetime
    ) -> int:
        params = {"campaign": campaign_id, "reason": reason, "now": aware(now), "by": by}
        scope = "" if campaign_id is None else "AND campaign_id = %(campaign)s"
        async with self._transaction() as conn:
            if campaign_id is not None:
                await get_row(conn, "campaigns", campaign_id, "campaign")
            row = await fetch_one(conn, _ADD, {**params, "phones": list(phones)})
            await conn.execute(
                "UPDATE voters SET status = %(dnc)s WHERE phone = ANY(%(phones)s) "
                f"AND status IN (%(pending)s, %(retry)s) {scope}",
                {
                    **params,
                    "phones": list(phones),
                    "dnc": VoterStatus.DNC.value,
                    "pending": VoterStatus.PENDING.value,
                    "retry": VoterStatus.RETRY.value,
                },
            )
        assert row is not None
        return int(row["added"])

    async def remove_dnc(self, phone: str, campaign_id: int | None) -> bool:
        """Take ``phone`` off the campaign's list (None: the global list); False if it was not
        on it. Voters already marked DNC stay DNC: removal does not resurrect them."""
        removed = await self._execute(
            "DELETE FROM dnc WHERE phone = %s AND campaign_id IS NOT DISTINCT FROM %s",
            (phone, campaign_id),
        )
        return removed > 0

    async def is_dnc(self, phone: str, campaign_id: int) -> bool:
        """On the campaign's list or the global one."""
        row = await self._one(
            "SELECT 1 FROM dnc WHERE phone = %s AND (campaign_id IS NULL OR campaign_id = %s)",
            (phone, campaign_id),
        )
        return row is not None

    async def list_dnc(self, campaign_id: int | None = None) -> list[DncEntry]:
        """The campaign's list, or with None the global list; oldest first, each entry with
        who added it by name."""
        rows = await self._all(
            f"{_WITH_NAMES} WHERE dnc.campaign_id IS NOT DISTINCT FROM %s ORDER BY dnc.id",
            (campaign_id,),
        )
        return [_entry(row) for row in rows]

    async def dnc_phones(self, campaign_id: int) -> set[str]:
        """Every phone on the campaign's list or the global one (for import)."""
        rows = await self._all(
            "SELECT phone FROM dnc WHERE campaign_id IS NULL OR campaign_id = %s", (campaign_id,)
        )
        return {row["phone"] for row in rows}


def _entry(row: dict[str, Any]) -> DncEntry:
    volunteer = row.get("volunteer_name")
    return dataclasses.replace(
        decode(DncEntry, row),
        added_by=volunteer or row["created_by"],
        added_by_volunteer=volunteer is not None,
    )
