"""Call attempts in the SQLite store, and the statistics computed from them."""

from __future__ import annotations

from datetime import datetime
from typing import Unpack

from engine.models import Attempt, CallOutcome
from engine.store.base import HourCount
from engine.store.changes import AttemptChanges
from engine.store.live_answer_counts import counted_from
from engine.store.sqlite.base import SqliteBase
from engine.store.sqlite.rows import decode, to_iso
from engine.store.sqlite.worker import on_worker

_WINDOW = """
SELECT outcome, amd_verdict FROM attempts
WHERE campaign_id = :campaign AND ended_at >= :since
UNION ALL
SELECT outcome, amd_verdict FROM attempts
WHERE campaign_id = :campaign AND ended_at IS NULL AND amd_at >= :since"""
"""The attempts that count for statistics since :since: those that ended since, and live
answers still on the line whose answering-machine-detection verdict (amd_at) came since. Two
ranges of the index attempts_campaign_window (which holds outcome and amd_verdict too), so
only the window is read, never the campaign's whole history."""


_ABANDON_COUNTS = """
SELECT coalesce(sum(live), 0) AS live, coalesce(sum(abandoned), 0) AS abandoned FROM (
    SELECT live_answers AS live, abandons AS abandoned FROM live_answer_counts
    WHERE campaign_id = :campaign AND hour >= :first_hour
    UNION ALL
    SELECT 1, outcome = :abandoned FROM (
        SELECT outcome, amd_verdict FROM attempts
        WHERE campaign_id = :campaign AND ended_at >= :since AND ended_at < :until
        UNION ALL
        SELECT outcome, amd_verdict FROM attempts
        WHERE campaign_id = :campaign AND ended_at IS NULL AND amd_at >= :since
          AND amd_at < :until)
    WHERE outcome IN (:contact, :abandoned) AND amd_verdict != '')"""
"""The counters' whole hours from :first_hour, and the attempts from :since until then."""


_BY_HOUR = """
SELECT substr(at, 1, 13) AS hour, count(*) AS attempts,
       coalesce(sum(outcome = :contact), 0) AS contacts
FROM (
    SELECT ended_at AS at, outcome FROM attempts
    WHERE campaign_id = :campaign AND ended_at >= :since AND state = 'ended'
    UNION ALL
    SELECT claimed_at AS at, outcome FROM attempts
    WHERE campaign_id = :campaign AND ended_at IS NULL AND claimed_at >= :since
      AND state = 'ended')
GROUP BY hour
ORDER BY hour"""
"""Times are stored as UTC ISO text, so the first 13 characters (YYYY-MM-DDTHH) are the hour."""


class AttemptsMixin(SqliteBase):
    @on_worker
    def update_attempt(self, /, attempt_id: int, **changes: Unpack[AttemptChanges]) -> Attempt:
        """Set Attempt fields (state, channel_id, timestamps, outcome...). Raises NotFound, and
        TypeError for a name that is not an Attempt field."""
        return self._update("attempts", Attempt, attempt_id, "call attempt", changes)

    @on_worker
    def get_attempt(self, attempt_id: int) -> Attempt:
        """Raises NotFound."""
        return decode(Attempt, self._get("attempts", attempt_id, "call attempt"))

    @on_worker
    def attempt_by_channel(self, channel_id: str) -> Attempt | None:
        """The latest attempt on this channel."""
        row = self._one(
            "SELECT * FROM attempts WHERE channel_id = ? ORDER BY id DESC LIMIT 1", (channel_id,)
        )
        return None if row is None else decode(Attempt, row)

    @on_worker
    def open_attempts(self) -> list[Attempt]:
        """Attempts not ENDED (for recovery after a restart), oldest first."""
        rows = self._all("SELECT * FROM attempts WHERE state != 'ended' ORDER BY id")
        return [decode(Attempt, row) for row in rows]

    @on_worker
    def list_attempts(self, campaign_id: int) -> list[Attempt]:
        """Oldest first."""
        rows = self._all("SELECT * FROM attempts WHERE campaign_id = ? ORDER BY id", (campaign_id,))
        return [decode(Attempt, row) for row in rows]

    @on_worker
    def abandon_counts(self, campaign_id: int, since: datetime) -> tuple[int, int]:
        """(abandoned, live answers) since ``since``: live answers are automatic calls (with
        an AMD verdict; preview calls placed by a volunteer cannot be abandoned) whose outcome
        is CONTACT or ABANDONED. An attempt counts from when it ended or, if still on the
        line, from its AMD verdict (amd_at). Whole hours come from live_answer_counts, the
        part of an hour before them from the attempts (engine/store/live_answer_counts.py)."""
        first_hour = counted_from(since)
        params = {
            "campaign": campaign_id,
            "since": to_iso(since),
            "until": to_iso(first_hour),
            "first_hour": to_iso(first_hour)[:13],
            "abandoned": CallOutcome.ABANDONED.value,
            "contact": CallOutcome.CONTACT.value,
        }
        row = self._one(_ABANDON_COUNTS, params)
        assert row is not None
        return row["abandoned"], row["live"]

    @on_worker
    def outcome_counts(self, campaign_id: int, since: datetime) -> dict[CallOutcome, int]:
        """How many attempts had each outcome since ``since`` (every outcome present, 0 if
        none); counted as in abandon_counts."""
        counts = dict.fromkeys(CallOutcome, 0)
        rows = self._all(
            f"SELECT outcome, count(*) AS n FROM ({_WINDOW}) WHERE outcome IS NOT NULL "
            "GROUP BY outcome",
            {"campaign": campaign_id, "since": to_iso(since)},
        )
        for row in rows:
            counts[CallOutcome(row["outcome"])] = row["n"]
        return counts

    @on_worker
    def attempts_by_hour(self, campaign_id: int, since: datetime) -> list[HourCount]:
        """Ended attempts per clock hour (UTC) from ``since``: how many, and how many were
        contacts, oldest hour first; hours without any are left out. An attempt counts at
        its end (its claim when it has no end time). Two index ranges of the campaign's attempts
        (attempts_campaign_window: ended since, and never ended), grouped in SQL."""
        rows = self._all(
            _BY_HOUR,
            {
                "campaign": campaign_id,
                "since": to_iso(since),
                "contact": CallOutcome.CONTACT.value,
            },
        )
        return [
            HourCount(
                hour=datetime.fromisoformat(row["hour"] + ":00:00+00:00"),
                attempts=row["attempts"],
                contacts=row["contacts"],
            )
            for row in rows
        ]

    @on_worker
    def attempts_in_flight(self, campaign_id: int) -> int:
        """The campaign's attempts not ENDED (index attempts_campaign_open)."""
        row = self._one(
            "SELECT count(*) AS n FROM attempts INDEXED BY attempts_campaign_open "
            "WHERE campaign_id = ? AND state != 'ended'",
            (campaign_id,),
        )
        return int(row["n"]) if row else 0
