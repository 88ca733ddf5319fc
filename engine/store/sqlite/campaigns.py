"""Campaigns in the SQLite store."""

from __future__ import annotations

import sqlite3
from typing import Any

from engine.clock import utc_now
from engine.models import Campaign
from engine.store.campaign_rules import campaign_settings, clean_name, name_key, name_taken
from engine.store.sqlite.base import SqliteBase
from engine.store.sqlite.rows import decode, encode_record, to_iso
from engine.store.sqlite.worker import on_worker


class CampaignsMixin(SqliteBase):
    @on_worker
    def create_campaign(self, /, name: str, **settings: Any) -> Campaign:
        """Settings are Campaign fields (TypeError for any other name); term_codes may be
        TermCode objects or {code, label, kind} dicts. created_at defaults to now.
        Raises Conflict if a campaign of that name (case-insensitive, trimmed) exists, and
        InvalidInput for a blank name."""
        name = clean_name(name)
        draft = Campaign(id=0, name=name, **campaign_settings(settings))
        record = encode_record(draft)
        record.update(name_key=name_key(name), created_at=to_iso(draft.created_at or utc_now()))
        try:
            campaign_id = self._insert("campaigns", record)
        except sqlite3.IntegrityError as error:
            raise name_taken(name) from error
        return decode(Campaign, self._get("campaigns", campaign_id, "campaign"))

    @on_worker
    def update_campaign(self, /, campaign_id: int, **settings: Any) -> Campaign:
        """Set Campaign fields. Raises NotFound, Conflict if renamed to a taken name."""
        fields = campaign_settings(settings)
        columns = {}
        if "name" in fields:
            fields["name"] = clean_name(fields["name"])
            columns["name_key"] = name_key(fields["name"])
        try:
            return self._update("campaigns", Campaign, campaign_id, "campaign", fields, columns)
        except sqlite3.IntegrityError as error:
            raise name_taken(str(fields.get("name", ""))) from error

    @on_worker
    def get_campaign(self, campaign_id: int) -> Campaign:
        """Raises NotFound."""
        return decode(Campaign, self._get("campaigns", campaign_id, "campaign"))

    @on_worker
    def campaign_by_name(self, name: str) -> Campaign | None:
        """Case-insensitive, trimmed."""
        row = self._one("SELECT * FROM campaigns WHERE name_key = ?", (name_key(name),))
        return None if row is None else decode(Campaign, row)

    @on_worker
    def list_campaigns(self) -> list[Campaign]:
        """Oldest first."""
        return [decode(Campaign, row) for row in self._all("SELECT * FROM campaigns ORDER BY id")]
