"""The operator's live dashboard: the page, its stats (the service's plus contacts and
attempts per hour for the last HOURS hours and lines in flight), and the campaign's events
over a WebSocket authenticated by the operator's cookie (pages of this server only, a few
per operator: web/ws_guard.py, web/socket_counts.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from engine.operators.stats import hourly
from web.appkeys import OPERATOR_SOCKETS, WEBSOCKETS, engine_of
from web.errors import STREAMING
from web.events_ws import HEARTBEAT_SECONDS, operator_sockets
from web.operator.auth import COOKIE, SESSIONS, OperatorSession, operator_page
from web.operator.pages import load_campaign, page
from web.operator.sockets import page_key, watch
from web.shapes import dumps
from web.ws_guard import check_origin


@operator_page
async def dashboard(request: web.Request, session: OperatorSession) -> web.Response:
    campaign = await load_campaign(request)
    return page(request, session, "operator/dashboard.html", {"campaign": campaign})


@operator_page
async def stats(request: web.Request, session: OperatorSession) -> web.Response:
    campaign = await load_campaign(request)
    engine = engine_of(request)
    data = await engine.operators.stats(campaign.id)
    data.update(await hourly(engine.store, campaign.id, datetime.now(UTC)))
    return web.json_response(data, dumps=dumps)


@operator_page
async def events(request: web.Request, session: OperatorSession) -> web.WebSocketResponse:
    """The campaign's events (as /api/operator/campaigns/{id}/events) for the signed-in page."""
    check_origin(request)
    campaign = await load_campaign(request)
    engine = engine_of(request)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS)
    if not ws.can_prepare(request).ok:
        raise web.HTTPBadRequest(text="this is a WebSocket endpoint")
    with (
        operator_sockets(request, session.username),
        engine.notifier.campaign_events(campaign.id) as queue,
    ):
        await ws.prepare(request)
        request[STREAMING] = True
        request.app[WEBSOCKETS].add(ws)
        cookie = request.cookies.get(COOKIE, "")
        sender = asyncio.create_task(_send(ws, queue))
        watcher = asyncio.create_task(watch(ws, _page_valid(request, cookie, session.username)))
        try:
            with request.app[OPERATOR_SOCKETS].hold(page_key(cookie), ws):
                async for _message in ws:
                    pass
        finally:
            for task in (sender, watcher):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await task
    await ws.close()
    return ws


def _page_valid(request: web.Request, cookie: str, username: str) -> Callable[[], Awaitable[bool]]:
    """Whether the page's sign-in lasts and its operator still exists."""

    async def valid() -> bool:
        if not request.app[SESSIONS].alive(cookie):
            return False
        return await engine_of(request).store.get_operator(username) is not None

    return valid


async def _send(ws: web.WebSocketResponse, queue: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        event = await queue.get()
        await ws.send_json(event, dumps=dumps)


def add_routes(app: web.Application, campaign: str) -> None:
    app.add_routes(
        [
            web.get(campaign + "/dashboard", dashboard),
            web.get(campaign + "/stats", stats),
            web.get(campaign + "/events", events),
        ]
    )
