"""Calling hours: which voters may be called now, in their own time zone.

A voter's zone comes from the ZIP code when it is a known US ZIP (people keep their mobile
numbers when they move, so the address is the better guide), else from the phone number's area
code. '' stands for an unknown zone; an unknown voter is only called when it is within hours
everywhere in the US from Hawaii to the East Coast.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
import zipcodes
from phonenumbers import timezone as phone_timezone

from engine.errors import InvalidInput

UNKNOWN_ZONE = ""
"""How the store and the dialer spell "we do not know this voter's zone"."""

CONSERVATIVE_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
)
"""A voter in an unknown zone is called only when all of these are within hours."""

_ZIP = re.compile(r"\s*(\d{5})(?:[-\s]?\d{4})?\s*")
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)|24:00")
_list_all_zips: Callable[[], list[dict[str, Any]]] = zipcodes.list_all


def voter_timezone(phone_e164: str, zip_code: str = "") -> str:
    """The IANA zone to apply calling hours in, or '' when unknown.

    A known US ZIP (5 digits or ZIP+4) wins; otherwise the phone number's zone if it maps to
    exactly one zone. Never raises: an unparseable number or ZIP just gives ''.
    """
    return _zip_zone(zip_code) or _phone_zone(phone_e164)


def zones_within_hours(zones: Iterable[str], start: str, end: str, now: datetime) -> set[str]:
    """The subset of ``zones`` whose local time at ``now`` is in [start, end).

    ``start`` and ``end`` are "HH:MM" (24-hour; ``end`` may be "24:00"). The unknown zone ''
    (and any name that is not an IANA zone) is included only when every zone in
    CONSERVATIVE_ZONES is within hours. Raises InvalidInput for a malformed time or an end
    not after start, and ValueError if ``now`` is naive.
    """
    first, last = _minutes(start, "start"), _minutes(end, "end")
    if last <= first:
        raise InvalidInput(f"calling hours end ({end}) must be later than start ({start})")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    unknown_ok: bool | None = None
    within: set[str] = set()
    for zone in set(zones):
        if _is_known(zone):
            ok = _local_minutes(zone, now) in range(first, last)
        else:
            if unknown_ok is None:
                unknown_ok = all(
                    _local_minutes(z, now) in range(first, last) for z in CONSERVATIVE_ZONES
                )
            ok = unknown_ok
        if ok:
            within.add(zone)
    return within


ALL_ZONES = frozenset(available_timezones()) | {""}
"""Every zone a voter can have, '' (unknown) included."""


def zones_open_now(start: str, end: str, now: datetime) -> set[str]:
    """The zones whose voters may be called at ``now`` for calling hours [start, end).

    Checking all ~600 zones takes ~30 ms, and the dialer asks on the event loop at every tick:
    the answer only changes when a minute turns, so it is remembered per minute."""
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    return set(_zones_open_in_minute(start, end, minute))


@lru_cache(maxsize=64)
def _zones_open_in_minute(start: str, end: str, minute: datetime) -> frozenset[str]:
    return frozenset(zones_within_hours(ALL_ZONES, start, end, minute))


def within_hours(zone: str, start: str, end: str, now: datetime) -> bool:
    """Whether a voter in ``zone`` ('' for unknown) may be called at ``now``.

    Raises as zones_within_hours does.
    """
    return zone in zones_within_hours([zone], start, end, now)


def _minutes(hhmm: str, which: str) -> int:
    """Minutes since midnight of an "HH:MM" string; raises InvalidInput naming ``which``."""
    if not isinstance(hhmm, str) or not _HHMM.fullmatch(hhmm):
        raise InvalidInput(
            f"calling hours {which} {hhmm!r} is not a time: use 24-hour HH:MM, e.g. 09:00 or 21:00"
        )
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _local_minutes(zone: str, now: datetime) -> int:
    local = now.astimezone(ZoneInfo(zone))
    return local.hour * 60 + local.minute


@cache
def _iana_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _is_known(zone: str) -> bool:
    return zone in _iana_zones()


@cache
def _zip_zones() -> dict[str, str]:
    """ZIP code -> IANA zone for every ZIP in the bundled data that names a real zone.

    Built once (about half a second): zipcodes.matching scans the whole table on each call,
    far too slow for a 100,000-row import.
    """
    return {z["zip_code"]: z["timezone"] for z in _list_all_zips() if _is_known(z["timezone"])}


def _zip_zone(zip_code: str) -> str:
    match = _ZIP.fullmatch(zip_code)
    if match is None:
        return UNKNOWN_ZONE
    return _zip_zones().get(match.group(1), UNKNOWN_ZONE)


def _phone_zone(phone_e164: str) -> str:
    try:
        number = phonenumbers.parse(phone_e164)
    except phonenumbers.NumberParseException:
        return UNKNOWN_ZONE
    zones = phone_timezone.time_zones_for_number(number)
    if len(zones) != 1 or not _is_known(zones[0]):
        return UNKNOWN_ZONE
    return str(zones[0])
