"""A campaign's live events for operators, over a WebSocket (the loop: web/event_stream.py):
every event of the campaign's sessions and calls, for API clients (bearer token, or
``?token=``; a ``snapshot`` of the stats first) and for the signed-in dashboard page (its
cookie). Either socket closes when its credential ends (web/operator_sockets.py)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from engine.errors import LoginFailed
from web.appkeys import engine_of
from web.auth import authenticate_operator, bearer_token
from web.event_stream import EventStream, Revocable, serve_events
from web.operator.auth import COOKIE, SESSIONS, OperatorSession, operator_page
from web.operator.render import load_campaign
from web.operator_sockets import page_key, token_key
from web.socket_counts import operator_quota


async def campaign_events(request: web.Request) -> web.WebSocketResponse:
    """API clients: the campaign's stats (GET …/stats), then its events."""
    return await serve_events(request, _api_stream)


async def _api_stream(request: web.Request) -> EventStream:
    operator = await authenticate_operator(request, allow_query=True)
    token = bearer_token(request, allow_query=True)
    assert token is not None  # authenticate_operator found the operator by it
    engine = engine_of(request)
    campaign_id = int(request.match_info["id"])

    async def snapshot() -> Mapping[str, Any]:
        return await engine.operators.stats(campaign_id)

    async def token_valid() -> bool:
        try:
            await engine.operators.operator_for_token(token)
        except LoginFailed:
            return False
        return True

    return EventStream(
        quota=operator_quota(operator.username),
        subscribe=functools.partial(engine.notifier.campaign_events, campaign_id),
        snapshot=snapshot,
        revocable=Revocable(token_key(token), token_valid),
    )


@operator_page
async def dashboard_events(request: web.Request, session: OperatorSession) -> web.WebSocketResponse:
    """The dashboard page: the campaign's events (as the API's socket, without a snapshot:
    the page reads GET …/stats itself)."""

    async def page_stream(request: web.Request) -> EventStream:
        campaign = await load_campaign(request)
        cookie = request.cookies.get(COOKIE, "")
        return EventStream(
            quota=operator_quota(session.username),
            subscribe=functools.partial(engine_of(request).notifier.campaign_events, campaign.id),
            revocable=Revocable(page_key(cookie), _page_valid(request, cookie, session.username)),
        )

    return await serve_events(request, page_stream)


def _page_valid(request: web.Request, cookie: str, username: str) -> Callable[[], Awaitable[bool]]:
    """Whether the page's sign-in lasts and its operator still exists."""

    async def valid() -> bool:
        if not request.app[SESSIONS].alive(cookie):
            return False
        return await engine_of(request).store.get_operator(username) is not None

    return valid
