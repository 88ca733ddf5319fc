"""Dashboard figures: per clock hour of the campaign's zone, from aggregate queries (never a
read of every attempt), and the signed-in volunteers one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.models import Campaign, TermCodeKind
from engine.store.base import Store
from engine.time_zone import campaign_zone, zone_label

HOURS = 12


async def hourly(store: Store, campaign: Campaign, now: datetime) -> dict[str, Any]:
    """Contacts and attempts in each of the last HOURS clock hours of the campaign's zone
    (oldest first, the current hour last; an attempt counts at its end, or its claim if it has
    no end time), and the calls in flight now."""
    zone = campaign_zone(campaign, await store.voter_zones(campaign.id))
    local = now.astimezone(zone)
    this_hour = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    start = this_hour - timedelta(hours=HOURS - 1)  # in UTC: whole hours even across DST
    contacts = [0] * HOURS
    attempts = [0] * HOURS
    for count in await store.attempts_by_hour(campaign.id, start):
        # the store groups by UTC hour: a zone off by half an hour counts it in the hour
        # it began in
        slot = int((count.hour - start).total_seconds() // 3600)
        slot = min(HOURS - 1, max(0, slot))
        attempts[slot] += count.attempts
        contacts[slot] += count.contacts
    return {
        "hours": [_hour(start, i, zone) for i in range(HOURS)],
        "time_zone": zone_label(zone),
        "time_zone_abbreviation": local.strftime("%Z"),
        "contacts_per_hour": contacts,
        "attempts_per_hour": attempts,
        "lines_in_flight": await store.attempts_in_flight(campaign.id),
    }


async def volunteers_on_shift(store: Store, campaign: Campaign, now: datetime) -> list[Any]:
    """One row per signed-in volunteer: name, audio, state and since when (seconds), and
    calls (saved results) and contacts (results with a contact term code) this session."""
    contact_codes = {t.code for t in campaign.term_codes if t.kind == TermCodeKind.CONTACT}
    rows = []
    for row in await store.volunteers_on_shift(campaign.id):
        rows.append(
            {
                "session_id": row.session_id,
                "name": row.name,
                "audio_mode": str(row.audio_mode),
                "phone": row.phone,
                "state": str(row.state),
                "state_since": row.state_since.isoformat(),
                "seconds_in_state": max(0, round((now - row.state_since).total_seconds())),
                "calls": sum(row.results_by_code.values()),
                "contacts": sum(
                    n for code, n in row.results_by_code.items() if code in contact_codes
                ),
            }
        )
    return rows


def _hour(start: datetime, offset: int, zone: ZoneInfo) -> str:
    return (start + timedelta(hours=offset)).astimezone(zone).strftime("%H:00")
