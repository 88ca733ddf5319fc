"""When calling hours next let a voter in a zone be called (pure: no I/O)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.voters.calling_hours import ALL_ZONES, CONSERVATIVE_ZONES, within_hours

DAYS_AHEAD = 3
"""How far ahead an opening is looked for (calling hours open every day)."""


def next_open(zone: str, start: str, end: str, after: datetime) -> datetime | None:
    """The first moment at or after ``after`` when a voter in ``zone`` ('' for unknown) may
    be called for calling hours [start, end) ("HH:MM"); None if none within DAYS_AHEAD days.
    An unknown zone opens when every zone of CONSERVATIVE_ZONES is within hours. Raises as
    engine.voters.calling_hours.zones_within_hours does."""
    if within_hours(zone, start, end, after):
        return after
    local_zones = (zone,) if zone in ALL_ZONES and zone else CONSERVATIVE_ZONES
    candidates = sorted(
        opening
        for name in local_zones
        for opening in _openings(ZoneInfo(name), start, after)
        if opening > after
    )
    for candidate in candidates:
        if within_hours(zone, start, end, candidate):
            return candidate
    return None


def local_clock(hhmm: str) -> str:
    """ "09:00" -> "9:00 a.m.", "21:30" -> "9:30 p.m.", "12:00" -> "noon"."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    if (hours, minutes) == (12, 0):
        return "noon"
    if hours % 24 == 0 and minutes == 0:
        return "midnight"
    suffix = "a.m." if hours % 24 < 12 else "p.m."
    return f"{(hours % 12) or 12}:{minutes:02d} {suffix}"


def _openings(zone: ZoneInfo, start: str, after: datetime) -> list[datetime]:
    """The local start of calling hours in ``zone`` on the days around ``after`` (a start in
    a daylight-saving gap is moved on by the gap, as clocks are)."""
    hours, minutes = (int(part) for part in start.split(":"))
    hours = min(hours, 23)
    today = after.astimezone(zone).date()
    openings = []
    for offset in range(-1, DAYS_AHEAD + 1):
        day = today + timedelta(days=offset)
        naive = datetime.combine(day, time(hours, minutes))
        # fold=0 on a nonexistent time gives the offset before the gap: the moment after it
        openings.append(naive.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")))
    return openings
