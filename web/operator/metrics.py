"""`GET /metrics`: the engine's Prometheus metrics (engine/metrics/), in Prometheus' text format.

Not public: on the web app it needs an operator's token (``Authorization: Bearer``). The
separate listener of ``web.metrics_address`` (web/metrics_listener.py), for a Prometheus on a
private network, serves the same view without one.
"""

from __future__ import annotations

from aiohttp import web

from engine.metrics.registry import CONTENT_TYPE
from web.appkeys import OPEN_METRICS, engine_of
from web.auth import authenticate_operator


async def metrics(request: web.Request) -> web.Response:
    """Operators only, except on the metrics listener."""
    if not request.app.get(OPEN_METRICS, False):
        await authenticate_operator(request)
    body = await engine_of(request).metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
