"""How the results report names its campaign's time zone and writes times in it. Which zone
that is: engine/time_zone.py ``campaign_zone``."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from engine.time_zone import UTC_ZONE, campaign_zone

__all__ = ["UTC_ZONE", "campaign_zone", "local_time", "zone_name"]


def zone_name(zone: ZoneInfo, when: datetime) -> str:
    """How the page names the zone: its IANA key and, where different, the abbreviation in
    force at ``when`` ("America/New_York (EST)")."""
    short = when.astimezone(zone).tzname() or ""
    return zone.key if short in ("", zone.key) else f"{zone.key} ({short})"


def local_time(when: datetime, zone: ZoneInfo) -> str:
    """A time for people, in ``zone``, named: "Dec 3, 2026, 2:05 p.m. EST"."""
    local = when.astimezone(zone)
    hour = local.hour % 12 or 12
    half = "a.m." if local.hour < 12 else "p.m."
    named = local.tzname() or zone.key
    return f"{local:%b} {local.day}, {local.year}, {hour}:{local:%M} {half} {named}"
