"""Who may open a live-events WebSocket: pages of this server only.

A browser always sends ``Origin`` with a WebSocket handshake, and a page on another
site could otherwise open one with the operator's cookie (cross-site WebSocket hijacking) or
a volunteer's leaked token. A handshake is accepted when ``Origin`` is missing (not a
browser: API clients and scripts) or names this server's host — the ``Host`` header, behind
a reverse proxy that rewrites it ``X-Forwarded-Host`` (a page's script cannot set either), or
the host of ``web.public_url``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from web.appkeys import WEB_CONFIG
from web.errors import Forbidden


def check_origin(request: web.Request) -> None:
    """Raises Forbidden when the handshake comes from a page of another site."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    ours = [_host_port(request.host)]
    forwarded = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip()
    if forwarded:
        ours.append(_host_port(forwarded))
    cfg = request.app.get(WEB_CONFIG)
    if cfg is not None and cfg.public_url:
        ours.append(_host_port(urlsplit(cfg.public_url).netloc))
    parts = urlsplit(origin)
    if parts.scheme in ("http", "https") and parts.hostname:
        theirs = _host_port(parts.netloc)
        if any(_same_host(theirs, host) for host in ours):
            return
    raise Forbidden(
        f"this WebSocket only accepts pages of this server, not {origin[:100]!r}: "
        "open phonebank's own page"
    )


def _host_port(netloc: str) -> tuple[str, int | None]:
    """(host in lower case, the port when one is written)."""
    parts = urlsplit(f"//{netloc}")
    try:
        port = parts.port
    except ValueError:
        port = -1  # matches no real port
    return (parts.hostname or "").lower(), port


def _same_host(a: tuple[str, int | None], b: tuple[str, int | None]) -> bool:
    """Same host name, and the same port where both name one (a TLS proxy in front changes
    the scheme, so a default port left out on one side is not compared)."""
    return bool(a[0]) and a[0] == b[0] and (a[1] is None or b[1] is None or a[1] == b[1])
