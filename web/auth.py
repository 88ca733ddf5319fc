"""Who is calling: a volunteer's session or an operator, from an ``Authorization: Bearer`` token.

Volunteers get their token from ``POST /api/signin``, operators from ``POST /api/operator/login``.
Views are wrapped in :func:`volunteer_view` or :func:`operator_view`, which resolve the caller
(or answer 401) and pass it in; the few anonymous views need no wrapper.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Handler

from engine.errors import LoginFailed
from engine.models import Operator, Session
from web.appkeys import engine_of
from web.errors import Unauthorized

SessionHandler = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]
OperatorHandler = Callable[[web.Request, Operator], Awaitable[web.StreamResponse]]

VOLUNTEER_HINT = (
    "sign in first: send the token from POST /api/signin as 'Authorization: Bearer <token>'"
)
OPERATOR_HINT = (
    "operators must log in: send the token from POST /api/operator/login as "
    "'Authorization: Bearer <token>'"
)


def bearer_token(request: web.Request, *, allow_query: bool = False) -> str | None:
    """The token from ``Authorization: Bearer <token>``, or (for WebSockets, whose browser
    API cannot set headers) from ``?token=`` when ``allow_query``."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if allow_query:
        return request.query.get("token", "").strip() or None
    return None


async def authenticate_volunteer(request: web.Request, *, allow_query: bool = False) -> Session:
    """The session the token belongs to (also a logged-out one, so its page can say why).

    Raises Unauthorized without a token or with one that matches no session.
    """
    token = bearer_token(request, allow_query=allow_query)
    if token is None:
        raise Unauthorized(VOLUNTEER_HINT)
    try:
        return await engine_of(request).volunteers.session_for_token(token)
    except LoginFailed as exc:
        raise Unauthorized(str(exc)) from None


async def authenticate_operator(request: web.Request, *, allow_query: bool = False) -> Operator:
    """The operator the token belongs to. Raises Unauthorized otherwise."""
    token = bearer_token(request, allow_query=allow_query)
    if token is None:
        raise Unauthorized(OPERATOR_HINT)
    try:
        return await engine_of(request).operators.operator_for_token(token)
    except LoginFailed as exc:
        raise Unauthorized(str(exc)) from None


def volunteer_view(handler: SessionHandler) -> Handler:
    """A view for signed-in volunteers: called with the caller's session."""

    @functools.wraps(handler)
    async def view(request: web.Request) -> web.StreamResponse:
        return await handler(request, await authenticate_volunteer(request))

    return view


def operator_view(handler: OperatorHandler) -> Handler:
    """A view for operators: called with the operator."""

    @functools.wraps(handler)
    async def view(request: web.Request) -> web.StreamResponse:
        return await handler(request, await authenticate_operator(request))

    return view


def client_address(request: web.Request) -> str:
    """The caller's address, the key failed logins are counted under."""
    return request.remote or "unknown"
