"""The campaign's time zone for the results report: its own setting, else the zone most of
its voters are in, else UTC.

The same rule and signature as engine/operators/time_zone.py ``campaign_zone`` (the live
dashboard's, issue 14 item 5); the two are to be unified when both are merged."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.models import Campaign

UTC_ZONE = ZoneInfo("UTC")


def campaign_zone(campaign: Campaign, voter_zones: Counter[str] | Mapping[str, int]) -> ZoneInfo:
    """``campaign.time_zone`` when it names a zone; else the zone with the most voters (the
    alphabetically first of a tie); else UTC."""
    for name in [campaign.time_zone, *_by_count(voter_zones)]:
        zone = _zone(name)
        if zone is not None:
            return zone
    return UTC_ZONE


def _by_count(voter_zones: Mapping[str, int]) -> list[str]:
    return sorted(
        (name for name, n in voter_zones.items() if n > 0), key=lambda z: (-voter_zones[z], z)
    )


def _zone(name: str) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


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
