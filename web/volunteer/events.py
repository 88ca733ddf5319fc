"""The volunteer's live events: the session's state changes and each voter card, as they
happen, over a WebSocket (the loop: web/event_stream.py). Browsers cannot set headers on a
WebSocket, so the bearer token may also come as ``?token=``."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from engine.models import SessionState
from engine.notifier import Event
from web.appkeys import engine_of
from web.auth import authenticate_volunteer
from web.event_stream import EventStream, serve_events
from web.socket_counts import session_quota


async def session_events(request: web.Request) -> web.WebSocketResponse:
    """A snapshot (what GET /api/session returns), then the session's events until it ends."""
    return await serve_events(request, _session_stream)


async def _session_stream(request: web.Request) -> EventStream:
    session = await authenticate_volunteer(request, allow_query=True)
    engine = engine_of(request)

    async def snapshot() -> Mapping[str, Any]:
        return await engine.volunteers.view(session.id)

    return EventStream(
        quota=session_quota(session.id),
        subscribe=functools.partial(engine.notifier.session_events, session.id),
        snapshot=snapshot,
        last=logged_out,
    )


def logged_out(event: Event) -> bool:
    """The session is over: nothing more will come."""
    return event.get("type") in ("snapshot", "session") and (
        event.get("state") == SessionState.LOGGED_OUT
    )
