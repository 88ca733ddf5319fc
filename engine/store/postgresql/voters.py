"""Voters in the PostgreSQL store: import (with merging), counts, claiming for calls, release.

Claims lock the voters they pick (`FOR UPDATE SKIP LOCKED`): engines claiming at once each get
other voters, never wait for one another, and never get the same voter twice."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from itertools import islice
from typing import Any

from engine.errors import NotFound
from engine.models import Attempt, CallState, Voter, VoterStatus
from engine.store.base import VoterInput
from engine.store.postgresql.base import Connection, PostgresBase, fetch_all, fetch_one
from engine.store.postgresql.rows import aware, decode, encode_record, to_json
from engine.store.voter_rows import MERGED_FIELDS, split_batch

_BATCH = 500
"""Import rows handled per round of queries."""

_COPY_VOTERS = f"""
COPY voters (campaign_id, phone, {", ".join(MERGED_FIELDS)}, status, attempts) FROM STDIN"""
"""New voters go in with COPY: a 100,000-row list in seconds, not the minute of one INSERT
per row."""

_EXISTING = f"""
SELECT v.id, v.phone, {", ".join(f"v.{name}" for name in MERGED_FIELDS)}
FROM unnest(%s::text[]) AS given(phone)
CROSS JOIN LATERAL (
    SELECT * FROM voters WHERE campaign_id = %s AND phone = given.phone LIMIT 1) AS v"""
"""The batch's phones already in the campaign, one index probe each (the unique index on
(campaign_id, phone)). The LIMIT keeps the planner from turning this into a scan of the
campaign's voters: while a new campaign's list goes in, the statistics still say it has
none, and `phone = ANY(...)` over its voters made a 100,000-row import quadratic."""

_LISTED = """
SELECT given.phone FROM unnest(%s::text[]) AS given(phone)
CROSS JOIN LATERAL (
    SELECT 1 FROM dnc
    WHERE dnc.phone = given.phone AND (dnc.campaign_id IS NULL OR dnc.campaign_id = %s)
    LIMIT 1) AS listed"""
"""The batch's phones on the campaign's or the global do-not-call list (index dnc_phone)."""

_UPDATE_MERGED = f"""
UPDATE voters SET {", ".join(f"{name} = %s" for name in MERGED_FIELDS)} WHERE id = %s"""

_CALLABLE = """
    SELECT v.id, v.next_attempt_at FROM voters AS v
    WHERE v.campaign_id = %(campaign)s
      AND v.status = %({status})s
      AND (v.next_attempt_at IS NULL OR v.next_attempt_at <= %(now)s)
      AND v.attempts < %(max_attempts)s
      AND v.timezone = ANY(%(zones)s)
      AND (%(any_line_type)s OR v.line_type = ANY(%(line_types)s))
      AND NOT EXISTS (
          SELECT 1 FROM dnc AS d
          WHERE d.phone = v.phone AND (d.campaign_id IS NULL OR d.campaign_id = v.campaign_id))
    ORDER BY v.next_attempt_at NULLS FIRST, v.id
    LIMIT %(count)s
    FOR UPDATE SKIP LOCKED"""

_CLAIM = f"""
WITH pending AS ({_CALLABLE.format(status="pending")}),
retry AS ({_CALLABLE.format(status="retry")}),
picked AS (
    SELECT id FROM (SELECT * FROM pending UNION ALL SELECT * FROM retry) AS callable
    ORDER BY next_attempt_at NULLS FIRST, id
    LIMIT %(count)s)
UPDATE voters SET status = %(in_flight)s, attempts = voters.attempts + 1
FROM picked WHERE voters.id = picked.id
RETURNING voters.*"""
"""The callable voters, oldest next_attempt_at first, then import order, locked as they are
read: a voter another transaction is claiming is skipped, not waited for; one it has just
claimed is no longer callable when re-checked (READ COMMITTED re-reads a locked row). Each
status is read in the order of the voters_callable index and stops after the count, as in
the SQLite store: `status IN (...)` would sort every callable voter of the campaign (150 ms
a claim at 100,000 voters). Up to count voters of the status not taken stay locked until
the claim commits, a moment later."""


class VotersMixin(PostgresBase):
    async def add_voters(self, campaign_id: int, rows: Iterable[VoterInput]) -> tuple[int, int]:
        """Insert rows in one transaction; a phone already in the campaign (or earlier in
        ``rows``) is merged: its blank fields are filled, extra fields added, status and
        attempts kept. Returns (inserted, merged). New voters whose phone is on the campaign's
        or the global do-not-call list get status DNC. Imports into one campaign take turns
        (the campaign row is locked). Raises NotFound for an unknown campaign."""
        inserted = merged = 0
        async with self._transaction() as conn:
            found = await fetch_one(
                conn, "SELECT id FROM campaigns WHERE id = %s FOR NO KEY UPDATE", (campaign_id,)
            )
            if found is None:
                raise NotFound(f"There is no campaign with id {campaign_id}.")
            pending = iter(rows)
            while batch := list(islice(pending, _BATCH)):
                batch_inserted, batch_merged = await _add_batch(conn, campaign_id, batch)
                inserted += batch_inserted
                merged += batch_merged
        return inserted, merged

    async def get_voter(self, voter_id: int) -> Voter:
        """Raises NotFound."""
        return decode(Voter, await self._get("voters", voter_id, "voter"))

    async def voter_counts(self, campaign_id: int) -> dict[VoterStatus, int]:
        """How many voters have each status (every status present, 0 if none)."""
        counts = dict.fromkeys(VoterStatus, 0)
        for row in await self._all(
            "SELECT status, count(*) AS n FROM voters WHERE campaign_id = %s GROUP BY status",
            (campaign_id,),
        ):
            counts[VoterStatus(row["status"])] = row["n"]
        return counts

    async def claim_voters(
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
        see Store.claim_voters for the
        rules (``line_types`` None: any line type). One transaction; voters another claim
        holds are skipped, so concurrent claims never share a voter."""
        zones = list(dict.fromkeys(timezones))
        kinds = None if line_types is None else sorted(line_types)
        if count <= 0 or not zones or kinds == []:
            return []
        params: dict[str, Any] = {
            "campaign": campaign_id,
            "pending": VoterStatus.PENDING.value,
            "retry": VoterStatus.RETRY.value,
            "in_flight": VoterStatus.IN_FLIGHT.value,
            "now": aware(now),
            "max_attempts": max_attempts,
            "count": count,
            "zones": zones,
            "any_line_type": kinds is None,
            "line_types": kinds or [],
        }
        async with self._transaction() as conn:
            rows = await fetch_all(conn, _CLAIM, params)
            voters = sorted(
                (decode(Voter, row) for row in rows),
                key=lambda v: (v.next_attempt_at is not None, v.next_attempt_at or now, v.id),
            )
            return [(voter, await _new_attempt(conn, voter, now, channel_name)) for voter in voters]

    async def release_voter(
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
        row = await self._one(
            "UPDATE voters SET status = %s, next_attempt_at = %s,"
            " attempts = greatest(0, attempts - %s) WHERE id = %s RETURNING id",
            (
                VoterStatus(status).value,
                None if next_attempt_at is None else aware(next_attempt_at),
                1 if refund_attempt else 0,
                voter_id,
            ),
        )
        if row is None:
            raise NotFound(f"There is no voter with id {voter_id}.")


async def _new_attempt(
    conn: Connection, voter: Voter, now: datetime, channel_name: Callable[[int], str] | None
) -> Attempt:
    attempt = Attempt(
        id=0,
        campaign_id=voter.campaign_id,
        voter_id=voter.id,
        phone=voter.phone,
        state=CallState.CLAIMED,
        claimed_at=aware(now),
    )
    record = encode_record(attempt)
    row = await fetch_one(
        conn,
        f"INSERT INTO attempts ({', '.join(record)}) VALUES ({', '.join(['%s'] * len(record))})"
        " RETURNING *",
        list(record.values()),
    )
    assert row is not None
    if channel_name is not None:
        row = await fetch_one(
            conn,
            "UPDATE attempts SET channel_id = %s WHERE id = %s RETURNING *",
            (channel_name(row["id"]), row["id"]),
        )
        assert row is not None
    return decode(Attempt, row)


async def _add_batch(
    conn: Connection, campaign_id: int, batch: list[VoterInput]
) -> tuple[int, int]:
    """Insert or merge one batch of import rows; returns (inserted, merged)."""
    phones = sorted({row.phone for row in batch})
    existing = {
        row["phone"]: row for row in await fetch_all(conn, _EXISTING, (phones, campaign_id))
    }
    on_dnc = {row["phone"] for row in await fetch_all(conn, _LISTED, (phones, campaign_id))}
    split = split_batch(batch, existing)
    new, changed = split.new, split.changed
    async with conn.cursor() as cursor:
        async with cursor.copy(_COPY_VOTERS) as copy:
            for phone, record in new.items():
                status = VoterStatus.DNC if phone in on_dnc else VoterStatus.PENDING
                await copy.write_row((campaign_id, phone, *_merged_values(record), status.value, 0))
        if changed:
            await cursor.executemany(
                _UPDATE_MERGED,
                [(*_merged_values(record), record["id"]) for record in changed.values()],
            )
    return len(new), split.merged


def _merged_values(record: dict[str, Any]) -> list[Any]:
    return [to_json(record[name]) if name == "extra" else record[name] for name in MERGED_FIELDS]
