"""The typed keys under which the app keeps what its views share."""

from __future__ import annotations

import weakref

import jinja2
from aiohttp import web

from engine.app import Engine
from engine.config import WebConfig
from web.operator_sockets import OperatorSockets
from web.socket_counts import SocketCounts

ENGINE = web.AppKey("engine", Engine)
"""The running engine whose services the views call."""

WEB_CONFIG = web.AppKey("web_config", WebConfig)

WEBSOCKETS = web.AppKey("websockets", weakref.WeakSet[web.WebSocketResponse])
"""Open WebSockets, closed when the app shuts down."""


SOCKET_COUNTS = web.AppKey("socket_counts", SocketCounts)
"""Open event sockets per credential (web/ws_guard.py)."""
OPERATOR_SOCKETS = web.AppKey("operator_sockets", OperatorSockets)
"""Operators' open event sockets by credential, closed at logout (web/operator_sockets.py)."""


OPEN_METRICS = web.AppKey("open_metrics", bool)
"""True only on the web.metrics_address listener: /metrics there needs no token."""


def engine_of(request: web.Request) -> Engine:
    return request.app[ENGINE]


TEMPLATES = web.AppKey("templates", jinja2.Environment)
"""The page templates' environment (web/pages.py)."""
