"""What the dashboard and the idle message need to know about a campaign right now, in the
PostgreSQL store: the voters left to call grouped by why they can or cannot be called now, the
voters' zones, the volunteers signed in with their results this shift, and the calls that
really reached the phone system. Every count is grouped in SQL (issue 14, items 2 and 5)."""

from __future__ import annotations

from datetime import datetime

from engine.models import AudioMode, SessionState, VoterStatus
from engine.store.base import ShiftRow, VoterTally
from engine.store.postgresql.base import PostgresBase
from engine.store.postgresql.rows import aware, utc

_TALLY = """
SELECT v.status AS status, v.timezone AS zone,
       v.attempts >= %(max_attempts)s AS exhausted,
       CASE WHEN v.status IN (%(pending)s, %(retry)s) THEN EXISTS (
           SELECT 1 FROM dnc AS d
           WHERE d.phone = v.phone AND (d.campaign_id IS NULL OR d.campaign_id = v.campaign_id))
       ELSE false END AS on_dnc,
       coalesce(v.next_attempt_at > %(now)s, false) AS waiting,
       min(v.next_attempt_at) AS soonest,
       count(*) AS n
FROM voters AS v
WHERE v.campaign_id = %(campaign)s
GROUP BY 1, 2, 3, 4, 5"""
"""One row per kind of voter; the do-not-call check looks only voters still to call up."""

_SHIFT = """
SELECT s.id AS session_id, s.state, s.state_since, s.audio_mode, s.channel_id IS NOT NULL
       AS phone, s.created_at, s.volunteer_id, vo.name
FROM sessions AS s JOIN volunteers AS vo ON vo.id = s.volunteer_id
WHERE s.campaign_id = %s AND s.state <> 'logged out'
ORDER BY lower(vo.name) COLLATE "C", s.id"""
"""By name ignoring case (SQLite's NOCASE), whatever the database's collation."""

_SHIFT_RESULTS = """
SELECT session_id, term_code, count(*) AS n FROM results
WHERE campaign_id = %(campaign)s AND volunteer_id = %(volunteer)s
  AND (%(since)s::timestamptz IS NULL OR created_at >= %(since)s) AND session_id = %(session)s
GROUP BY session_id, term_code"""
"""One volunteer's results this shift (index results_campaign_volunteer)."""

_PLACED = """
SELECT count(*) AS n FROM (
    SELECT originated_at FROM attempts
    WHERE campaign_id = %(campaign)s AND ended_at >= %(since)s
    UNION ALL
    SELECT originated_at FROM attempts
    WHERE campaign_id = %(campaign)s AND state <> 'ended') AS window_and_open
WHERE originated_at >= %(since)s"""
"""Calls the phone system accepted since (an attempt claimed but refused, or never sent, has
no originated_at): the window's ended attempts and the open ones."""


class AvailabilityMixin(PostgresBase):
    async def voter_tallies(
        self, campaign_id: int, now: datetime, max_attempts: int
    ) -> list[VoterTally]:
        """The campaign's voters grouped by status, zone, out of attempts, on the do-not-call
        list and waiting for a retry time after ``now`` (with the soonest such time)."""
        rows = await self._all(
            _TALLY,
            {
                "campaign": campaign_id,
                "now": aware(now),
                "max_attempts": max_attempts,
                "pending": VoterStatus.PENDING.value,
                "retry": VoterStatus.RETRY.value,
            },
        )
        return [
            VoterTally(
                status=VoterStatus(row["status"]),
                zone=row["zone"],
                exhausted=row["exhausted"],
                on_dnc=row["on_dnc"],
                waiting_until=utc(row["soonest"]) if row["waiting"] else None,
                count=row["n"],
            )
            for row in rows
        ]

    async def volunteers_on_shift(self, campaign_id: int) -> list[ShiftRow]:
        """The campaign's signed-in volunteers (by name) with their results this session
        counted by term code."""
        shift = []
        for row in await self._all(_SHIFT, (campaign_id,)):
            results: dict[str, int] = {}
            params = {
                "campaign": campaign_id,
                "volunteer": row["volunteer_id"],
                "since": row["created_at"],
                "session": row["session_id"],
            }
            for result in await self._all(_SHIFT_RESULTS, params):
                results[result["term_code"]] = results.get(result["term_code"], 0) + result["n"]
            shift.append(
                ShiftRow(
                    session_id=row["session_id"],
                    name=row["name"],
                    audio_mode=AudioMode(row["audio_mode"]),
                    state=SessionState(row["state"]),
                    state_since=utc(row["state_since"]),
                    phone=row["phone"],
                    results_by_code=results,
                )
            )
        return shift

    async def voter_zones(self, campaign_id: int) -> dict[str, int]:
        """How many of the campaign's voters are in each zone ('' unknown)."""
        rows = await self._all(
            "SELECT timezone, count(*) AS n FROM voters WHERE campaign_id = %s GROUP BY timezone",
            (campaign_id,),
        )
        return {row["timezone"]: row["n"] for row in rows}

    async def calls_placed(self, campaign_id: int, since: datetime) -> int:
        """Calls of the campaign the phone system accepted (originated) since ``since``."""
        row = await self._one(_PLACED, {"campaign": campaign_id, "since": aware(since)})
        return int(row["n"]) if row else 0
