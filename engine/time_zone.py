"""The campaign's time zone: the one the live dashboard, the idle explanation and the results
report give times in (issue 14 items 2, 4 and 5). One rule for all of them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from engine.errors import InvalidInput
from engine.models import Campaign

UTC_ZONE = ZoneInfo("UTC")


def campaign_zone(campaign: Campaign, voter_zones: Counter[str] | Mapping[str, int]) -> ZoneInfo:
    """The campaign's ``time_zone`` when it names a zone; else the zone most of its voters are
    in (the alphabetically first on a tie, so the answer is stable); UTC when no voter's zone
    is known. ``voter_zones``: voters per IANA zone ('' for unknown, ignored)."""
    by_count = sorted(
        (name for name, count in voter_zones.items() if name and count > 0),
        key=lambda name: (-voter_zones[name], name),
    )
    for name in [campaign.time_zone, *by_count]:
        zone = _zone(name)
        if zone is not None:
            return zone
    return UTC_ZONE


def valid_time_zone(value: object) -> str:
    """A campaign's ``time_zone`` setting, checked: '' (automatic) or an IANA zone name such
    as America/Chicago. Raises InvalidInput with a sentence naming the setting."""
    if not isinstance(value, str):
        raise InvalidInput("time_zone must be text: an IANA zone such as America/Chicago")
    name = value.strip()
    if name and name not in _zone_names():
        raise InvalidInput(
            f"time_zone {name!r} is not a known time zone: use an IANA name such as "
            "America/New_York or Europe/Berlin, or leave it empty to use the voters' zone"
        )
    return name


def zone_label(zone: ZoneInfo) -> str:
    """How the zone is named to people: its IANA key (e.g. America/Chicago)."""
    return zone.key


def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone(name: str) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
