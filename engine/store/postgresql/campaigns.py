"""Campaigns in the PostgreSQL store."""

from __future__ import annotations

from typing import Any

from psycopg import errors

from engine.clock import utc_now
from engine.models import Campaign
from engine.store.campaign_rules import campaign_settings, clean_name, name_key, name_taken
from engine.store.postgresql.base import PostgresBase, get_row, insert, update_row
from engine.store.postgresql.rows import aware, decode, encode_record


class CampaignsMixin(PostgresBase):
    async def create_campaign(self, /, name: str, **settings: Any) -> Campaign:
        """Settings are Campaign fields (TypeError for any other name); term_codes may be
        TermCode objects or {code, label, kind} dicts. created_at defaults to now.
        Raises Conflict if a campaign of that name (case-insensitive, trimmed) exists, and
        InvalidInput for a blank name."""
        name = clean_name(name)
        draft = Campaign(id=0, name=name, **campaign_settings(settings))
        record = encode_record(draft)
        record.update(name_key=name_key(name), created_at=aware(draft.created_at or utc_now()))
        try:
            async with self._transaction() as conn:
                campaign_id = await insert(conn, "campaigns", record)
                return decode(Campaign, await get_row(conn, "campaigns", campaign_id, "campaign"))
        except errors.UniqueViolation as error:
            raise name_taken(name) from error

    async def update_campaign(self, /, campaign_id: int, **settings: Any) -> Campaign:
        """Set Campaign fields. Raises NotFound, Conflict if renamed to a taken name."""
        fields = campaign_settings(settings)
        columns = {}
        if "name" in fields:
            fields["name"] = clean_name(fields["name"])
            columns["name_key"] = name_key(fields["name"])
        try:
            async with self._transaction() as conn:
                return await update_row(
                    conn, "campaigns", Campaign, campaign_id, "campaign", fields, columns
                )
        except errors.UniqueViolation as error:
            raise name_taken(str(fields.get("name", ""))) from error

    async def get_campaign(self, campaign_id: int) -> Campaign:
        """Raises NotFound."""
        return decode(Campaign, await self._get("campaigns", campaign_id, "campaign"))

    async def campaign_by_name(self, name: str) -> Campaign | None:
        """Case-insensitive, trimmed."""
        row = await self._one("SELECT * FROM campaigns WHERE name_key = %s", (name_key(name),))
        return None if row is None else decode(Campaign, row)

    async def list_campaigns(self) -> list[Campaign]:
        """Oldest first."""
        rows = await self._all("SELECT * FROM campaigns ORDER BY id")
        return [decode(Campaign, row) for row in rows]
