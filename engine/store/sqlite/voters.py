"""Voters in the SQLite store: import (with merging), counts, claiming for calls, release."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from itertools import islice
from typing import Any

from engine.models import Attempt, CallState, Voter, VoterStatus
from engine.store.base import VoterInput
from engine.store.sqlite.base import SqliteBase, fetch_all, immediate
from engine.store.sqlite.rows import decode, encode_record, from_iso, to_iso, to_json
from engine.store.sqlite.worker import on_worker
from engine.store.voter_rows import MERGED_FIELDS, split_batch

_BATCH = 500
"""Import rows handled per round of queries (each phone is a parameter of an IN list)."""

_INSERT_VOTER = f"""
INSERT INTO voters (campaign_id, phone, {", ".join(MERGED_FIELDS)}, status, attempts)
VALUES (?, ?, {", ".join("?" * len(MERGED_FIELDS))}, ?, 0)"""

_UPDATE_MERGED = f"""
UPDATE voters SET {", ".join(f"{name} = ?" for name in MERGED_FIELDS)} WHERE id = ?"""

_CALLABLE = """
SELECT * FROM voters AS v
WHERE v.campaign_id = :campaign
  AND v.status = :{status}  -- :pending or :retry
  AND (v.next_attempt_at IS NULL OR v.next_attempt_at <= :now)
  AND v.attempts < :max_attempts
  AND v.timezone IN ({zones}){line_types}
  AND NOT EXISTS (
      SELECT 1 FROM dnc AS d
      WHERE d.phone = v.phone AND (d.campaign_id IS NULL OR d.campaign_id = v.campaign_id))
ORDER BY v.next_attempt_at, v.id  -- SQLite sorts NULL first
LIMIT :count"""


def _claim_sql(zone_count: int, line_type_count: int | None = None) -> str:
    """The callable voters, oldest next_attempt_at first, then import order. Each status is
    read in the order of the voters_callable index (campaign_id, status, next_attempt_at, id)
    and stops after :count rows, so only 2 x count rows are merged; `status IN (...)` would
    sort every callable voter of the campaign instead. A line-type filter (``line_type_count``
    parameters :line_type0…) is checked on the same index walk: it reads past the voters of
    other line types, which costs little while the types are mixed through the list."""
    zones = ", ".join(f":zone{n}" for n in range(zone_count))
    line_types = ""
    if line_type_count is not None:
        marks = ", ".join(f":line_type{n}" for n in range(line_type_count))
        line_types = f"\n  AND v.line_type IN ({marks})"
    pending = _CALLABLE.format(status="pending", zones=zones, line_types=line_types)
    retry = _CALLABLE.format(status="retry", zones=zones, line_types=line_types)
    return (
        f"SELECT * FROM ({pending}) UNION ALL SELECT * FROM ({retry}) "
        "ORDER BY next_attempt_at, id LIMIT :count"
    )


class VotersMixin(SqliteBase):
    @on_worker
    def add_voters(self, campaign_id: int, rows: Iterable[VoterInput]) -> tuple[int, int]:
        """Insert rows in one transaction; a phone already in the campaign (or earlier in
        ``rows``) is merged: its blank fields are filled, extra fields added, status and
        attempts kept. Returns (inserted, merged). New voters whose phone is on the campaign's
        or the global do-not-call list get status DNC. Raises NotFound for an unknown
        campaign."""
        inserted = merged = 0
        with immediate(self.conn) as conn:
            self._get("campaigns", campaign_id, "campaign")
            pending = iter(rows)
            while batch := list(islice(pending, _BATCH)):
                batch_inserted, batch_merged = _add_batch(conn, campaign_id, batch)
                inserted += batch_inserted
                merged += batch_merged
        return inserted, merged

    @on_worker
    def get_voter(self, voter_id: int) -> Voter:
        """Raises NotFound."""
        return decode(Voter, self._get("voters", voter_id, "voter"))

    @on_worker
    def voter_counts(self, campaign_id: int) -> dict[VoterStatus, int]:
        """How many voters have each status (every status present, 0 if none)."""
        counts = dict.fromkeys(VoterStatus, 0)
        for row in self._all(
            "SELECT status, count(*) AS n FROM voters WHERE campaign_id = ? GROUP BY status",
            (campaign_id,),
        ):
            counts[VoterStatus(row["status"])] = row["n"]
        return counts

    @on_worker
    def claim_voters(
        self,
        campaign_id: int,
        count: int,
        now: datetime,
        timezones: Iterable[str],
        max_attempts: int,
        line_types: frozenset[str] | None = None,
        *,
        channel_name: Callable[[int], str] | None = None,
    ) -> list[tuple[Voter, Attempt]]:
        """Atomically pick up to ``count`` callable voters and mark them IN_FLIGHT, creating
        an Attempt (state CLAIMED, claimed_at=now, channel id ``channel_name(id)``) for each;
        see Store.claim_voters for the rules (``line_types`` None: any line type). One BEGIN
        IMMEDIATE transaction: two
        stores on the same file never claim the same voter."""
        zones = list(dict.fromkeys(timezones))
        kinds = None if line_types is None else sorted(line_types)
        if count <= 0 or not zones or kinds == []:
            return []
        claimed_at = to_iso(now)
        params: dict[str, Any] = {
            "campaign": campaign_id,
            "pending": VoterStatus.PENDING.value,
            "retry": VoterStatus.RETRY.value,
            "now": claimed_at,
            "max_attempts": max_attempts,
            "count": count,
            **{f"zone{n}": zone for n, zone in enumerate(zones)},
            **{f"line_type{n}": kind for n, kind in enumerate(kinds or ())},
        }
        sql = _claim_sql(len(zones), None if kinds is None else len(kinds))
        claimed = []
        with immediate(self.conn) as conn:
            for row in fetch_all(conn, sql, params):
                conn.execute(
                    "UPDATE voters SET status = ?, attempts = attempts + 1 WHERE id = ?",
                    (VoterStatus.IN_FLIGHT.value, row["id"]),
                )
                voter = decode(
                    Voter,
                    {**row, "status": VoterStatus.IN_FLIGHT.value, "attempts": row["attempts"] + 1},
                )
                attempt = Attempt(
                    id=0,
                    campaign_id=campaign_id,
                    voter_id=voter.id,
                    phone=voter.phone,
                    state=CallState.CLAIMED,
                    claimed_at=from_iso(claimed_at),
                )
                attempt_id = self._insert("attempts", encode_record(attempt))
                channel_id = None if channel_name is None else channel_name(attempt_id)
                if channel_id is not None:
                    conn.execute(
                        "UPDATE attempts SET channel_id = ? WHERE id = ?", (channel_id, attempt_id)
                    )
                attempt = dataclasses.replace(attempt, id=attempt_id, channel_id=channel_id)
                claimed.append((voter, attempt))
        return claimed

    @on_worker
    def release_voter(
        self,
        voter_id: int,
        status: VoterStatus,
        next_attempt_at: datetime | None = None,
        *,
        refund_attempt: bool = False,
    ) -> None:
        """End a voter's flight: set its status (RETRY with next_attempt_at, DONE or DNC) and
        next_attempt_at (None clears it); ``refund_attempt`` gives back the attempt the claim
        counted. Raises NotFound."""
        with immediate(self.conn) as conn:
            self._get("voters", voter_id, "voter")
            conn.execute(
                "UPDATE voters SET status = ?, next_attempt_at = ?,"
                " attempts = MAX(0, attempts - ?) WHERE id = ?",
                (
                    VoterStatus(status).value,
                    None if next_attempt_at is None else to_iso(next_attempt_at),
                    1 if refund_attempt else 0,
                    voter_id,
                ),
            )


def _add_batch(
    conn: sqlite3.Connection, campaign_id: int, batch: list[VoterInput]
) -> tuple[int, int]:
    """Insert or merge one batch of import rows; returns (inserted, merged)."""
    phones = sorted({row.phone for row in batch})
    marks = ", ".join("?" * len(phones))
    existing = {
        row["phone"]: {**row, "extra": json.loads(row["extra"])}
        for row in fetch_all(
            conn,
            f"SELECT id, phone, {', '.join(MERGED_FIELDS)} FROM voters "
            f"WHERE campaign_id = ? AND phone IN ({marks})",
            [campaign_id, *phones],
        )
    }
    on_dnc = {
        row["phone"]
        for row in fetch_all(
            conn,
            f"SELECT phone FROM dnc WHERE phone IN ({marks}) "
            "AND (campaign_id IS NULL OR campaign_id = ?)",
            [*phones, campaign_id],
        )
    }
    split = split_batch(batch, existing)
    new, changed = split.new, split.changed
    conn.executemany(
        _INSERT_VOTER,
        [
            (
                campaign_id,
                phone,
                *_merged_values(record),
                (VoterStatus.DNC if phone in on_dnc else VoterStatus.PENDING).value,
            )
            for phone, record in new.items()
        ],
    )
    conn.executemany(
        _UPDATE_MERGED, [(*_merged_values(record), record["id"]) for record in changed.values()]
    )
    return len(new), split.merged


def _merged_values(record: dict[str, Any]) -> list[Any]:
    return [to_json(record[name]) if name == "extra" else record[name] for name in MERGED_FIELDS]
