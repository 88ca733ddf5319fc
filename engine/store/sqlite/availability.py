"""What the dashboard and the idle message need to know about a campaign right now, in the
SQLite store: the voters left to call grouped by why they can or cannot be called now, the
voters' zones, the volunteers signed in with their results this shift, and the calls that
really reached the phone system. Every count is grouped in SQL: nothing reads a row per
voter into Python (issue 14, items 2 and 5)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from engine.models import AudioMode, SessionState, VoterStatus
from engine.store.base import ShiftRow, VoterTally
from engine.store.sqlite.base import SqliteBase
from engine.store.sqlite.rows import from_iso, to_iso
from engine.store.sqlite.worker import on_worker

_TALLY = """
SELECT v.status AS status, v.timezone AS zone,
       v.attempts >= :max_attempts AS exhausted,
       CASE WHEN v.status IN (:pending, :retry) THEN EXISTS (
           SELECT 1 FROM dnc AS d
           WHERE d.phone = v.phone AND (d.campaign_id IS NULL OR d.campaign_id = v.campaign_id))
       ELSE 0 END AS on_dnc,
       coalesce(v.next_attempt_at > :now, 0) AS waiting,
       min(v.next_attempt_at) AS soonest,
       count(*) AS n
FROM voters AS v
WHERE v.campaign_id = :campaign
GROUP BY status, zone, exhausted, on_dnc, waiting"""
"""One row per kind of voter: the campaign's voters are read once along the voters_callable
index and grouped; the do-not-call check looks only voters still to call up by phone."""

_SHIFT = """
SELECT s.id AS session_id, s.state, s.state_since, s.audio_mode, s.channel_id IS NOT NULL
       AS phone, s.created_at, s.volunteer_id, vo.name
FROM sessions AS s JOIN volunteers AS vo ON vo.id = s.volunteer_id
WHERE s.campaign_id = ? AND s.state != 'logged out'
ORDER BY vo.name COLLATE NOCASE, s.id"""

_SHIFT_RESULTS = """
SELECT session_id, term_code, count(*) AS n FROM results
WHERE campaign_id = ? AND volunteer_id = ? AND created_at >= ? AND session_id = ?
GROUP BY term_code"""
"""One volunteer's results this shift (index results_campaign_volunteer)."""

_PLACED = """
SELECT count(*) AS n FROM (
    SELECT originated_at FROM attempts
    WHERE campaign_id = :campaign AND ended_at >= :since
    UNION ALL
    SELECT originated_at FROM attempts INDEXED BY attempts_campaign_open
    WHERE campaign_id = :campaign AND state != 'ended')
WHERE originated_at >= :since"""
"""Calls the phone system accepted since :since (an attempt claimed but refused, or never
sent, has no originated_at): the window's ended attempts and the open ones."""


class AvailabilityMixin(SqliteBase):
    @on_worker
    def voter_tallies(self, campaign_id: int, now: datetime, max_attempts: int) -> list[VoterTally]:
        """The campaign's voters grouped by status, zone, out of attempts, on the do-not-call
        list and waiting for a retry time after ``now`` (with the soonest such time)."""
        rows = self._all(
            _TALLY,
            {
                "campaign": campaign_id,
                "now": to_iso(now),
                "max_attempts": max_attempts,
                "pending": VoterStatus.PENDING.value,
                "retry": VoterStatus.RETRY.value,
            },
        )
        return [
            VoterTally(
                status=VoterStatus(row["status"]),
                zone=row["zone"],
                exhausted=bool(row["exhausted"]),
                on_dnc=bool(row["on_dnc"]),
                waiting_until=from_iso(row["soonest"]) if row["waiting"] else None,
                count=row["n"],
            )
            for row in rows
        ]

    @on_worker
    def volunteers_on_shift(self, campaign_id: int) -> list[ShiftRow]:
        """The campaign's signed-in volunteers (by name) with their results this session
        counted by term code."""
        shift = []
        for row in self._all(_SHIFT, (campaign_id,)):
            results: dict[str, int] = defaultdict(int)
            params = (campaign_id, row["volunteer_id"], row["created_at"] or "", row["session_id"])
            for result in self._all(_SHIFT_RESULTS, params):
                results[result["term_code"]] += result["n"]
            shift.append(
                ShiftRow(
                    session_id=row["session_id"],
                    name=row["name"],
                    audio_mode=AudioMode(row["audio_mode"]),
                    state=SessionState(row["state"]),
                    state_since=datetime.fromisoformat(row["state_since"]),
                    phone=bool(row["phone"]),
                    results_by_code=dict(results),
                )
            )
        return shift

    @on_worker
    def voter_zones(self, campaign_id: int) -> dict[str, int]:
        """How many of the campaign's voters are in each zone ('' unknown)."""
        rows = self._all(
            "SELECT timezone, count(*) AS n FROM voters WHERE campaign_id = ? GROUP BY timezone",
            (campaign_id,),
        )
        return {row["timezone"]: row["n"] for row in rows}

    @on_worker
    def calls_placed(self, campaign_id: int, since: datetime) -> int:
        """Calls of the campaign the phone system accepted (originated) since ``since``."""
        row = self._one(_PLACED, {"campaign": campaign_id, "since": to_iso(since)})
        return int(row["n"]) if row else 0
