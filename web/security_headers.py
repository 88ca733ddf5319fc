"""Security headers on every response: a Content-Security-Policy that lets only our own
static files run, and the headers that stop framing, MIME sniffing and referrer leaks.

The policy allows no inline script and no inline style: templates carry values for the
scripts in data attributes, and every style lives in web/static/*.css. The one other place
a page may connect to is the PBX's SIP-over-WebSocket endpoint (the browser softphone; it is
served by Asterisk's HTTP server on its own port, docs/softphone.md). Media (WebRTC) is not
governed by CSP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from urllib.parse import urlsplit

from aiohttp import web

from web.appkeys import WEB_CONFIG

HSTS = ("Strict-Transport-Security", "max-age=31536000")
ResponseHook = Callable[[web.Request, web.StreamResponse], Awaitable[None]]


def content_security_policy(softphone_ws_url: str | Sequence[str] | None) -> str:
    """The policy; ``softphone_ws_url`` (ws:// or wss://; one per dialer node) is added to
    connect-src."""
    connect = ["'self'"]
    urls = [softphone_ws_url] if isinstance(softphone_ws_url, str) else softphone_ws_url or []
    for url in urls:
        parts = urlsplit(url)
        source = f"{parts.scheme}://{parts.netloc}"
        if url and source not in connect:
            connect.append(source)
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data: https:",
        "connect-src": " ".join(connect),
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(softphone_ws_url: str | Sequence[str] | None) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(softphone_ws_url),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }


def add_security_headers(headers: Mapping[str, str]) -> ResponseHook:
    """An ``on_response_prepare`` hook setting ``headers`` on every response the app sends:
    pages, JSON, static files, redirects, errors and WebSocket handshakes alike (a
    middleware would miss the responses aiohttp makes itself, such as a static file's 304).
    Behind the TLS proxy (``web.public_url``) it adds HSTS too: browsers then refuse plain
    HTTP to this site for a year."""

    async def hook(request: web.Request, response: web.StreamResponse) -> None:
        for name, value in headers.items():
            response.headers[name] = value
        cfg = request.app.get(WEB_CONFIG)
        if cfg is not None and cfg.behind_proxy:
            response.headers[HSTS[0]] = HSTS[1]

    return hook
