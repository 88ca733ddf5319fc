"""Dashboard figures per clock hour, from aggregate queries (never a read of every attempt)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine.store.base import Store

HOURS = 12


async def hourly(store: Store, campaign_id: int, now: datetime) -> dict[str, Any]:
    """Contacts and attempts in each of the last HOURS clock hours (oldest first, the current
    hour last; an attempt counts at its end, or its claim if it has no end time), and the
    calls in flight now."""
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS - 1)
    contacts = [0] * HOURS
    attempts = [0] * HOURS
    for count in await store.attempts_by_hour(campaign_id, start):
        slot = min(HOURS - 1, int((count.hour - start).total_seconds() // 3600))
        attempts[slot] += count.attempts
        contacts[slot] += count.contacts
    hours = [(start + timedelta(hours=i)).strftime("%H:00") for i in range(HOURS)]
    return {
        "hours": hours,
        "contacts_per_hour": contacts,
        "attempts_per_hour": attempts,
        "lines_in_flight": await store.attempts_in_flight(campaign_id),
    }
