"""Operators on the HTML pages: cookie sessions and CSRF tokens.

A successful login opens a server-side session kept in memory (``SESSIONS`` on the app):
the cookie carries only a random id (HttpOnly, SameSite=Lax, Secure when
``web.secure_cookies`` or behind the TLS proxy, ``web.public_url``). A session ends after
ABSOLUTE_SECONDS, after IDLE_SECONDS without a request, at logout, or when the process
restarts (operators then log in again). Every POST must carry the session's CSRF token, in
the form field ``csrf_token`` or the header ``X-CSRF-Token``; the login form (before any
session) uses a double-submit cookie instead.
Volunteers' bearer tokens and cookies are never accepted here.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Handler

from web.appkeys import WEB_CONFIG, engine_of

COOKIE = "phonebank_operator"
LOGIN_COOKIE = "phonebank_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
ABSOLUTE_SECONDS = 8 * 3600
IDLE_SECONDS = 3600
LOGIN_PATH = "/operator/login"

CSRF_MESSAGE = (
    "This form was refused because its security token is missing or out of date "
    "(a protection against forged requests). Go back, reload the page and try again."
)


@dataclass
class OperatorSession:
    username: str
    csrf_token: str
    started: float
    last_seen: float


@dataclass
class OperatorSessions:
    """The signed-in operators, by cookie value. In memory: a restart signs everyone out."""

    clock: Callable[[], float] = time.time
    sessions: dict[str, OperatorSession] = field(default_factory=dict)

    def open(self, username: str) -> str:
        now = self.clock()
        key = secrets.token_urlsafe(32)
        self.sessions[key] = OperatorSession(username, secrets.token_urlsafe(32), now, now)
        return key

    def get(self, key: str | None) -> OperatorSession | None:
        """The live session for a cookie value (touching it), or None; drops expired ones."""
        if not key or key not in self.sessions:
            return None
        now = self.clock()
        session = self.sessions[key]
        if now - session.started > ABSOLUTE_SECONDS or now - session.last_seen > IDLE_SECONDS:
            del self.sessions[key]
            return None
        session.last_seen = now
        return session

    def alive(self, key: str) -> bool:
        """True while the session for this cookie value lasts (without touching it)."""
        session = self.sessions.get(key)
        now = self.clock()
        return session is not None and (
            now - session.started <= ABSOLUTE_SECONDS and now - session.last_seen <= IDLE_SECONDS
        )

    def close(self, key: str | None) -> None:
        if key:
            self.sessions.pop(key, None)


SESSIONS = web.AppKey("operator_sessions", OperatorSessions)
OPERATOR = web.RequestKey("operator_session", OperatorSession)

PageHandler = Callable[[web.Request, OperatorSession], Awaitable[web.StreamResponse]]


def set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path="/operator",
        httponly=True,
        samesite="Lax",
        secure=request.app[WEB_CONFIG].cookies_secure,
        max_age=ABSOLUTE_SECONDS,
    )


def current(request: web.Request) -> OperatorSession | None:
    return request.app[SESSIONS].get(request.cookies.get(COOKIE))


async def current_operator(request: web.Request) -> OperatorSession | None:
    """The live session, if its operator still exists (`phonebank operator remove` ends the
    sessions of the operator it removes at their next request)."""
    session = current(request)
    if (
        session is not None
        and await engine_of(request).store.get_operator(session.username) is None
    ):
        request.app[SESSIONS].close(request.cookies.get(COOKIE))
        return None
    return session


def same_token(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


async def csrf_given(request: web.Request) -> str | None:
    """The CSRF token the request carries: the header, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if request.content_type == "multipart/form-data":
            # Reading the form here would swallow the upload: a plain (script-less) upload
            # form carries the token in its action's query string instead.
            return request.query.get(CSRF_FIELD)
        form = await request.post()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def csrf_refused() -> web.Response:
    return web.Response(
        status=403,
        content_type="text/html",
        text=(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>Refused: security token missing</title></head><body>"
            f"<main><h1>Form refused</h1><p>{CSRF_MESSAGE}</p>"
            "<p><a href='/operator'>Back to the campaigns</a></p></main></body></html>"
        ),
    )


def operator_page(handler: PageHandler) -> Handler:
    """A page for signed-in operators: anonymous callers are sent to the login page, POSTs
    without the session's CSRF token get 403."""

    @functools.wraps(handler)
    async def view(request: web.Request) -> web.StreamResponse:
        session = await current_operator(request)
        if session is None:
            if "application/json" not in request.headers.get("Accept", ""):
                target = request.path_qs if request.method == "GET" else "/operator"
                raise web.HTTPSeeOther(f"{LOGIN_PATH}?next={_quote(target)}")
            return web.json_response(
                {"error": {"code": "unauthorized", "message": "log in again"}}, status=401
            )
        if request.method not in ("GET", "HEAD") and not same_token(
            await csrf_given(request), session.csrf_token
        ):
            return csrf_refused()
        request[OPERATOR] = session
        return await handler(request, session)

    return view


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")


def safe_next(target: str | None) -> str:
    """Where to go after login: only a path on this site under /operator."""
    if target and target.startswith("/operator") and not target.startswith("//"):
        return target
    return "/operator"
