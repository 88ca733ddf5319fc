"""Who is calling: a volunteer's session or an operator, from an ``Authorization: Bearer`` token.

Volunteers get their token from ``POST /api/signin``, operators from ``POST /api/operator/login``.
Views are wrapped in :func:`volunteer_view` or :func:`operator_view`, which resolve the caller
(or answer 401) and pass it in; the few anonymous views need no wrapper.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Handler

from engine.config import IpNetwork
from engine.errors import LoginFailed
from engine.models import Operator, Session
from web.appkeys import WEB_CONFIG, engine_of
from web.errors import Unauthorized

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
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
    """The caller's address, the key failed logins and sign-ups are counted under: the direct
    peer, or behind a trusted proxy (web.trusted_proxies) the address it forwarded."""
    peer = request.remote or "unknown"
    cfg = request.app.get(WEB_CONFIG)
    trusted = cfg.trusted_proxy_networks() if cfg is not None else []
    if not trusted:
        return peer
    return forwarded_client(peer, request.headers.getall("X-Forwarded-For", []), trusted)


def forwarded_client(peer: str, forwarded_for: list[str], trusted: list[IpNetwork]) -> str:
    """The right-most address of X-Forwarded-For that is not a trusted proxy, when ``peer``
    is one (else ``peer``: anyone can write the header, so an untrusted peer's is ignored).
    Each proxy appends the address it received the request from, so entries left of the
    first untrusted one may be forged by the client and are never believed."""
    if not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _is_trusted(hop, trusted):
            return hop if _address(hop) is not None else peer
    return peer


def _address(text: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def _is_trusted(text: str, trusted: list[IpNetwork]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in trusted)
