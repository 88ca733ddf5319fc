"""The operator's live dashboard: the page and its stats (the service's plus contacts and
attempts per hour and lines in flight, engine/operators/stats.py). The page follows the
campaign's events over its own WebSocket (web/operator/events.py)."""

from __future__ import annotations

from aiohttp import web

from engine.clock import utc_now
from engine.operators.stats import hourly
from web.appkeys import engine_of
from web.operator.auth import OperatorSession, operator_page
from web.operator.render import load_campaign, page
from web.shapes import dumps


@operator_page
async def dashboard(request: web.Request, session: OperatorSession) -> web.Response:
    campaign = await load_campaign(request)
    join_url = f"{request.url.origin()}/join/{campaign.id}"
    context = {"campaign": campaign, "join_url": join_url}
    return page(request, session, "operator/dashboard.html", context)


@operator_page
async def stats(request: web.Request, session: OperatorSession) -> web.Response:
    campaign = await load_campaign(request)
    engine = engine_of(request)
    data = await engine.operators.stats(campaign.id)
    now = utc_now()
    data.update(await hourly(engine.store, campaign, now))
    return web.json_response(data, dumps=dumps)
