"""The shared abandon budget (issue 16): each campaign's live answers and abandons, counted
per UTC clock hour in the ``live_answer_counts`` table of either store.

Database triggers on ``attempts`` keep the counts, in the same transaction as the write that
records a call's outcome, whichever engine or code path makes it; PostgreSQL's upsert makes
concurrent updates from several engines add up. The rule they apply, in SQL, is the one
``abandon_counts`` always had: an attempt counts when its outcome is CONTACT or ABANDONED and
it had an AMD verdict (preview calls cannot be abandoned), in the hour it ended, or, while it is
still on the line, the hour of its verdict (amd_at); an update that moves it (its end comes,
its outcome changes) takes it out of the old hour and adds it to the new one.

``abandon_counts(since)`` sums the whole hours from the counters and reads the attempts only
for the part of an hour before the first whole one (``counted_from``): the same answer as
reading every attempt of the window, with at most one hour of attempts read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)


def counted_from(since: datetime) -> datetime:
    """The first whole UTC hour at or after ``since``: the counters answer from there; the
    attempts between ``since`` and it (none when ``since`` is on the hour) are read directly.
    Raises ValueError for a naive datetime."""
    if since.tzinfo is None or since.utcoffset() is None:
        raise ValueError(f"the store needs timezone-aware datetimes, got naive {since!r}")
    utc = since.astimezone(UTC)
    hour = utc.replace(minute=0, second=0, microsecond=0)
    return hour if hour == utc else hour + HOUR
