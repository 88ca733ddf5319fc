"""Live updates over WebSocket: a volunteer's session, and a campaign's dashboard.

Each connection first gets a ``snapshot`` (what GET /api/session or the campaign's stats
return), then every event the engine publishes, as JSON text messages. Subscribing happens
before the snapshot is taken, so no change falls between the two. The server pings every
HEARTBEAT_SECONDS and drops clients that stop answering; on shutdown every socket is closed
with 1001 (going away). Browsers cannot set headers on a WebSocket, so the bearer token may
also come as ``?token=``. Handshakes from other sites' pages are refused (web/ws_guard.py),
and each credential may hold only a few sockets at once (web/socket_counts.py). An operator's
socket is closed when its token is revoked or the operator removed (web/operator/sockets.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager
from typing import Any

from aiohttp import WSCloseCode, web

from engine.errors import InvalidInput, LoginFailed
from engine.models import SessionState
from engine.notifier import Event
from web.appkeys import OPERATOR_SOCKETS, SOCKET_COUNTS, WEBSOCKETS, engine_of
from web.auth import authenticate_operator, authenticate_volunteer, bearer_token
from web.errors import STREAMING
from web.operator.sockets import token_key, watch
from web.shapes import dumps
from web.socket_counts import SOCKETS_PER_OPERATOR, SOCKETS_PER_SESSION
from web.ws_guard import check_origin

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 25.0


async def session_events(request: web.Request) -> web.WebSocketResponse:
    """The volunteer's session: its state changes and each voter card, as they happen."""
    check_origin(request)
    session = await authenticate_volunteer(request, allow_query=True)
    engine = engine_of(request)
    counts = request.app[SOCKET_COUNTS]
    with (
        counts.hold(f"session:{session.id}", SOCKETS_PER_SESSION, "sign-in"),
        engine.notifier.session_events(session.id) as queue,
    ):
        snapshot = {"type": "snapshot", **await engine.volunteers.view(session.id)}
        ws = await _open(request)
        await _relay(ws, snapshot, queue, last=_logged_out)
        log.debug("session %d: events socket closed", session.id)
    await ws.close()
    return ws


async def campaign_events(request: web.Request) -> web.WebSocketResponse:
    """An operator's dashboard: every event of the campaign's sessions and calls."""
    check_origin(request)
    operator = await authenticate_operator(request, allow_query=True)
    token = bearer_token(request, allow_query=True)
    assert token is not None  # authenticate_operator found the operator by it
    engine = engine_of(request)
    campaign_id = int(request.match_info["id"])

    async def token_valid() -> bool:
        try:
            await engine.operators.operator_for_token(token)
        except LoginFailed:
            return False
        return True

    with (
        operator_sockets(request, operator.username),
        engine.notifier.campaign_events(campaign_id) as queue,
    ):
        snapshot = {"type": "snapshot", **await engine.operators.stats(campaign_id)}
        ws = await _open(request)
        with request.app[OPERATOR_SOCKETS].hold(token_key(token), ws):
            await _relay(
                ws, snapshot, queue, last=lambda event: False, until=watch(ws, token_valid)
            )
    await ws.close()
    return ws


def operator_sockets(request: web.Request, username: str) -> AbstractContextManager[None]:
    """Count one of the operator's sockets (API and page together) while it is open."""
    return request.app[SOCKET_COUNTS].hold(f"operator:{username}", SOCKETS_PER_OPERATOR, "operator")


def _logged_out(event: Event) -> bool:
    """The session is over: nothing more will come."""
    return event.get("type") in ("snapshot", "session") and (
        event.get("state") == SessionState.LOGGED_OUT
    )


async def _open(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS)
    if not ws.can_prepare(request).ok:
        raise InvalidInput("this is a WebSocket endpoint: connect to it with a WebSocket client")
    await ws.prepare(request)
    request[STREAMING] = True
    request.app[WEBSOCKETS].add(ws)
    return ws


async def _relay(
    ws: web.WebSocketResponse,
    snapshot: Event,
    queue: asyncio.Queue[Event],
    last: Callable[[Event], bool],
    until: Coroutine[Any, Any, None] | None = None,
) -> None:
    """Send the snapshot, then queued events until the client leaves, the app shuts down,
    ``last(event)`` or ``until`` returns (an operator's credential gone)."""
    tasks = [
        asyncio.create_task(_send(ws, snapshot, queue, last)),
        asyncio.create_task(_read_until_closed(ws)),
    ]
    if until is not None:
        tasks.append(asyncio.create_task(until))
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        outcomes: list[Any] = await asyncio.gather(*tasks, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, Exception) and not isinstance(outcome, ConnectionError):
            log.error("events socket failed", exc_info=outcome)


async def _send(
    ws: web.WebSocketResponse,
    snapshot: Event,
    queue: asyncio.Queue[Event],
    last: Callable[[Event], bool],
) -> None:
    event = snapshot
    while True:
        await ws.send_json(event, dumps=dumps)
        if last(event):
            return
        event = await queue.get()


async def _read_until_closed(ws: web.WebSocketResponse) -> None:
    """Read (and ignore) what the client sends, so pings, pongs and its close are handled."""
    async for _message in ws:
        pass


async def close_all(app: web.Application) -> None:
    """on_shutdown: tell every open socket the server is going away."""
    sockets = app[WEBSOCKETS]
    for ws in list(sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
