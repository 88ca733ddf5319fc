"""The web app: the pages, the JSON API and the live-event WebSockets over the running engine
(every route: web/routes.py).

    async with Engine.running(cfg, ...) as engine, run_web(engine, cfg.web) as url:
        ...  # serving at url until the block exits

The caller owns the engine (the CLI starts it first, so `phonebank import` and tests can use
the services without a web server); the app only serves it.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from engine.app import Engine
from engine.config import WebConfig
from web.appkeys import (
    ENGINE,
    OPERATOR_SOCKETS,
    SOCKET_COUNTS,
    TEMPLATES,
    WEB_CONFIG,
    WEBSOCKETS,
)
from web.errors import error_middleware
from web.event_stream import close_all
from web.metrics_listener import metrics_listener
from web.operator.auth import SESSIONS, OperatorSessions
from web.operator.dnc import PENDING, PendingNumbers
from web.operator.lists import REJECTED, RejectedRows
from web.operator_sockets import OperatorSockets
from web.pages import page_templates
from web.routes import setup_routes
from web.security_headers import add_security_headers, security_headers
from web.socket_counts import SocketCounts

log = logging.getLogger(__name__)

SHUTDOWN_SECONDS = 5.0
"""How long requests in progress may take to finish when the server stops."""


def create_app(engine: Engine, cfg: WebConfig) -> web.Application:
    app = web.Application(middlewares=[error_middleware])
    app[ENGINE] = engine
    app[WEB_CONFIG] = cfg
    app[WEBSOCKETS] = weakref.WeakSet()
    app[SOCKET_COUNTS] = SocketCounts()
    app[OPERATOR_SOCKETS] = OperatorSockets()
    app[SESSIONS] = OperatorSessions()
    app[REJECTED] = RejectedRows()
    app[PENDING] = PendingNumbers()
    app[TEMPLATES] = page_templates(engine.operators.default_region)
    app.on_shutdown.append(close_all)
    softphone = [node.telephony.softphones.ws_url for node in engine.nodes.values()]
    app.on_response_prepare.append(add_security_headers(security_headers(softphone)))
    setup_routes(app)
    return app


class AccessLogger(AbstractAccessLogger):
    """One line per request, without the query string: WebSocket URLs carry tokens there."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %d %.1f ms',
            request.remote,
            request.method,
            request.path,
            response.status,
            time * 1000,
        )


@contextlib.asynccontextmanager
async def run_web(engine: Engine, cfg: WebConfig) -> AsyncIterator[str]:
    """Serve the app on cfg.host:cfg.port (port 0 picks a free one) in the running event loop;
    yields the URL it listens on. Open WebSockets are closed and the port freed on exit.

    Raises OSError when the address cannot be bound.
    """
    runner = web.AppRunner(
        create_app(engine, cfg), access_log_class=AccessLogger, shutdown_timeout=SHUTDOWN_SECONDS
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, cfg.host, cfg.port)
        await site.start()
        url = _url(cfg.host, runner.addresses[0][1])
        log.info("web app listening at %s", url)
        async with metrics_listener(engine, cfg.metrics_listen()):
            yield url
    finally:
        await runner.cleanup()


def _url(host: str, port: int) -> str:
    """A URL a person on this machine can open (a wildcard address becomes loopback)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
