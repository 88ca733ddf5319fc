"""Call attempts in the PostgreSQL store, and the statistics computed from them."""

from __future__ import annotations

from datetime import datetime
from typing import Unpack

from engine.models import Attempt, CallOutcome
from engine.store.base import HourCount
from engine.store.changes import AttemptChanges
from engine.store.live_answer_counts import counted_from
from engine.store.postgresql.base import PostgresBase, update_row
from engine.store.postgresql.rows import aware, decode, utc

_WINDOW = """
SELECT outcome, amd_verdict FROM attempts
WHERE campaign_id = %(campaign)s AND ended_at >= %(since)s
UNION ALL
SELECT outcome, amd_verdict FROM attempts
WHERE campaign_id = %(campaign)s AND ended_at IS NULL AND amd_at >= %(since)s"""
"""The attempts that count for statistics since: those that ended since, and live answers
still on the line whose answering-machine-detection verdict (amd_at) came since."""

_ABANDON_COUNTS = """
SELECT coalesce(sum(live), 0)::bigint AS live, coalesce(sum(abandoned), 0)::bigint AS abandoned
FROM (
    SELECT live_answers AS live, abandons AS abandoned FROM live_answer_counts
    WHERE campaign_id = %(campaign)s AND hour >= %(until)s
    UNION ALL
    SELECT 1, (outcome = %(abandoned)s)::integer FROM (
        SELECT outcome, amd_verdict FROM attempts
        WHERE campaign_id = %(campaign)s AND ended_at >= %(since)s AND ended_at < %(until)s
        UNION ALL
        SELECT outcome, amd_verdict FROM attempts
        WHERE campaign_id = %(campaign)s AND ended_at IS NULL AND amd_at >= %(since)s
          AND amd_at < %(until)s) AS w
    WHERE outcome IN (%(contact)s, %(abandoned)s) AND amd_verdict <> '') AS counted"""
"""The counters' whole hours from %(until)s, and the attempts from %(since)s until then."""

_BY_HOUR = """
SELECT date_trunc('hour', at) AS hour, count(*) AS attempts,
       count(*) FILTER (WHERE outcome = %(contact)s) AS contacts
FROM (
    SELECT ended_at AS at, outcome FROM attempts
    WHERE campaign_id = %(campaign)s AND ended_at >= %(since)s AND state = 'ended'
    UNION ALL
    SELECT claimed_at AS at, outcome FROM attempts
    WHERE campaign_id = %(campaign)s AND ended_at IS NULL AND claimed_at >= %(since)s
      AND state = 'ended') AS ended
GROUP BY 1
ORDER BY 1"""
"""Connections use the time zone UTC, so date_trunc cuts UTC clock hours."""


class AttemptsMixin(PostgresBase):
    async def update_attempt(
        self, /, attempt_id: int, **changes: Unpack[AttemptChanges]
    ) -> Attempt:
        """Set Attempt fields (state, channel_id, timestamps, outcome...). Raises NotFound, and
        TypeError for a name that is not an Attempt field."""
        async with self._transaction() as conn:
            return await update_row(conn, "attempts", Attempt, attempt_id, "call attempt", changes)

    async def get_attempt(self, attempt_id: int) -> Attempt:
        """Raises NotFound."""
        return decode(Attempt, await self._get("attempts", attempt_id, "call attempt"))

    async def attempt_by_channel(self, channel_id: str) -> Attempt | None:
        """The latest attempt on this channel."""
        row = await self._one(
            "SELECT * FROM attempts WHERE channel_id = %s ORDER BY id DESC LIMIT 1", (channel_id,)
        )
        return None if row is None else decode(Attempt, row)

    async def open_attempts(self) -> list[Attempt]:
        """Attempts not ENDED (for recovery after a restart), oldest first."""
        rows = await self._all("SELECT * FROM attempts WHERE state <> 'ended' ORDER BY id")
        return [decode(Attempt, row) for row in rows]

    async def list_attempts(self, campaign_id: int) -> list[Attempt]:
        """Oldest first."""
        rows = await self._all(
            "SELECT * FROM attempts WHERE campaign_id = %s ORDER BY id", (campaign_id,)
        )
        return [decode(Attempt, row) for row in rows]

    async def abandon_counts(self, campaign_id: int, since: datetime) -> tuple[int, int]:
        """(abandoned, live answers) since ``since``: live answers are automatic calls (with
        an AMD verdict; preview calls placed by a volunteer cannot be abandoned) whose outcome
        is CONTACT or ABANDONED. An attempt counts from when it ended or, if still on the
        line, from its AMD verdict (amd_at). Whole hours come from live_answer_counts, the
        part of an hour before them from the attempts (engine/store/live_answer_counts.py)."""
        row = await self._one(
            _ABANDON_COUNTS,
            {
                "campaign": campaign_id,
                "since": aware(since),
                "until": counted_from(since),
                "abandoned": CallOutcome.ABANDONED.value,
                "contact": CallOutcome.CONTACT.value,
            },
        )
        assert row is not None
        return row["abandoned"], row["live"]

    async def outcome_counts(self, campaign_id: int, since: datetime) -> dict[CallOutcome, int]:
        """How many attempts had each outcome since ``since`` (every outcome present, 0 if
        none); counted as in abandon_counts."""
        counts = dict.fromkeys(CallOutcome, 0)
        rows = await self._all(
            f"SELECT outcome, count(*) AS n FROM ({_WINDOW}) AS w WHERE outcome IS NOT NULL "
            "GROUP BY outcome",
            {"campaign": campaign_id, "since": aware(since)},
        )
        for row in rows:
            counts[CallOutcome(row["outcome"])] = row["n"]
        return counts

    async def attempts_by_hour(self, campaign_id: int, since: datetime) -> list[HourCount]:
        """Ended attempts per clock hour (UTC) from ``since``: how many, and how many were
        contacts, oldest hour first; hours without any are left out. An attempt counts at
        its end (its claim when it has no end time)."""
        rows = await self._all(
            _BY_HOUR,
            {
                "campaign": campaign_id,
                "since": aware(since),
                "contact": CallOutcome.CONTACT.value,
            },
        )
        return [
            HourCount(utc(row["hour"]), attempts=row["attempts"], contacts=row["contacts"])
            for row in rows
        ]

    async def attempts_in_flight(self, campaign_id: int) -> int:
        """The campaign's attempts not ENDED (index attempts_campaign_open)."""
        row = await self._one(
            "SELECT count(*) AS n FROM attempts WHERE campaign_id = %s AND state <> 'ended'",
            (campaign_id,),
        )
        return int(row["n"]) if row else 0
