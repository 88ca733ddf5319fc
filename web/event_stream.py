"""The live-events WebSocket loop, declared once for every events socket: a volunteer's
session (web/volunteer/events.py), a campaign over the API and the operator's dashboard
(web/operator/events.py).

    async def session_events(request):
        return await serve_events(request, session_stream)  # session_stream says what to send

Each socket: handshakes from other sites' pages are refused (web/ws_guard.py); the endpoint
then authenticates the caller and says what the socket streams (an EventStream); each
credential may hold only a few sockets at once (web/socket_counts.py: 429); a plain HTTP
request is refused (400); the socket subscribes to the engine's notifier, then (when the
stream has one) takes and sends a ``snapshot``, so no change falls between the two, then
every queued event as JSON text, until the client leaves, the app shuts down (1001, going
away), the stream's ``last`` event was sent, or the credential ends (an operator's, closed
with 1008: web/operator_sockets.py). The server pings every HEARTBEAT_SECONDS and drops
clients that stop answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, web

from engine.errors import InvalidInput
from engine.notifier import Event
from web.appkeys import OPERATOR_SOCKETS, SOCKET_COUNTS, WEBSOCKETS
from web.errors import STREAMING
from web.operator_sockets import watch
from web.shapes import dumps
from web.socket_counts import Quota
from web.ws_guard import check_origin

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 25.0
NOT_A_WEBSOCKET = "this is a WebSocket endpoint: connect to it with a WebSocket client"


def never(event: Event) -> bool:
    """A stream that ends only when its client leaves."""
    return False


@dataclass(frozen=True)
class Revocable:
    """A credential whose sockets end with it: ``key`` is what logout closes
    (OperatorSockets), ``still_valid`` is checked every CHECK_SECONDS."""

    key: str
    still_valid: Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class EventStream:
    """What one socket streams, for whom.

    ``subscribe`` opens the notifier's queue; ``snapshot`` (when given) is the state sent
    first, as ``{"type": "snapshot", ...}``; the socket closes once an event for which
    ``last`` is true has been sent.
    """

    quota: Quota
    subscribe: Callable[[], AbstractContextManager[asyncio.Queue[Event]]]
    snapshot: Callable[[], Awaitable[Mapping[str, Any]]] | None = None
    last: Callable[[Event], bool] = never
    revocable: Revocable | None = None


Authenticate = Callable[[web.Request], Awaitable[EventStream]]
"""Who the caller is and what their socket streams; raises (Unauthorized, NotFound...)
before the handshake when they may not have it."""


async def serve_events(request: web.Request, authenticate: Authenticate) -> web.WebSocketResponse:
    """Serve one events socket until it ends (the module docstring says when).

    Raises Forbidden for another site's page, what ``authenticate`` raises, RateLimited when
    the credential holds its quota of sockets and InvalidInput for a plain HTTP request.
    """
    check_origin(request)
    stream = await authenticate(request)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS)
    with request.app[SOCKET_COUNTS].hold(stream.quota):
        if not ws.can_prepare(request).ok:
            raise InvalidInput(NOT_A_WEBSOCKET)
        with stream.subscribe() as queue:
            first = None
            if stream.snapshot is not None:
                first = {"type": "snapshot", **await stream.snapshot()}
            await _open(request, ws)
            with _revocable(request, ws, stream.revocable) as until:
                await _relay(ws, first, queue, stream.last, until)
        log.debug("%s: events socket closed", stream.quota.key)
    await ws.close()
    return ws


async def _open(request: web.Request, ws: web.WebSocketResponse) -> None:
    await ws.prepare(request)
    request[STREAMING] = True
    request.app[WEBSOCKETS].add(ws)


@contextlib.contextmanager
def _revocable(
    request: web.Request, ws: web.WebSocketResponse, revocable: Revocable | None
) -> Iterator[Coroutine[Any, Any, None] | None]:
    """While the block runs, ``ws`` is closed at its credential's logout; yields the watch
    that closes it once the credential is no longer valid (None: nothing to watch)."""
    if revocable is None:
        yield None
        return
    with request.app[OPERATOR_SOCKETS].hold(revocable.key, ws):
        yield watch(ws, revocable.still_valid)


async def _relay(
    ws: web.WebSocketResponse,
    first: Event | None,
    queue: asyncio.Queue[Event],
    last: Callable[[Event], bool],
    until: Coroutine[Any, Any, None] | None,
) -> None:
    """Send ``first`` (when given), then queued events until the client leaves, the app
    shuts down, ``last(event)`` or ``until`` returns."""
    tasks = [
        asyncio.create_task(_send(ws, first, queue, last)),
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
    first: Event | None,
    queue: asyncio.Queue[Event],
    last: Callable[[Event], bool],
) -> None:
    event = first if first is not None else await queue.get()
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
