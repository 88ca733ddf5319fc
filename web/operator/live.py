"""The operator's live dashboard: the page and its stats (the service's plus contacts and
attempts per hour for the last HOURS hours and lines in flight). The page follows the
campaign's events over its own WebSocket (web/operator/events.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from engine.clock import utc_now
from engine.models import CallOutcome, CallState
from engine.store.base import Store
from web.appkeys import engine_of
from web.operator.auth import OperatorSession, operator_page
from web.operator.render import load_campaign, page
from web.shapes import dumps

HOURS = 12


@operator_page
async def dashboard(request: web.Request, session: OperatorSession) -> web.Response:
    campaign = await load_campaign(request)
    return page(request, session, "operator/dashboard.html", {"campaign": campaign})


@operator_page
async def stats(request: web.Request, session: OperatorSession) -> web.Response:
    campaign = await load_campaign(request)
    engine = engine_of(request)
    data = await engine.operators.stats(campaign.id)
    data.update(await hourly(engine.store, campaign.id, utc_now()))
    return web.json_response(data, dumps=dumps)


async def hourly(store: Store, campaign_id: int, now: datetime) -> dict[str, Any]:
    """Contacts and attempts in each of the last HOURS clock hours (oldest first, the current
    hour last), and the calls in flight now."""
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS - 1)
    contacts = [0] * HOURS
    attempts = [0] * HOURS
    in_flight = 0
    for attempt in await store.list_attempts(campaign_id):
        if attempt.state != CallState.ENDED:
            in_flight += 1
            continue
        when = attempt.ended_at or attempt.claimed_at
        if when is None or when < start:
            continue
        slot = min(HOURS - 1, int((when - start).total_seconds() // 3600))
        attempts[slot] += 1
        if attempt.outcome == CallOutcome.CONTACT:
            contacts[slot] += 1
    hours = [(start + timedelta(hours=i)).strftime("%H:00") for i in range(HOURS)]
    return {
        "hours": hours,
        "contacts_per_hour": contacts,
        "attempts_per_hour": attempts,
        "lines_in_flight": in_flight,
    }
