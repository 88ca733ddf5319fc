"""Whether the process is up and reaches the dialer PBX: for load balancers, monitoring and the
containers' health checks."""

from __future__ import annotations

from aiohttp import web

from web.appkeys import engine_of

ARI_DOWN = (
    "phonebank has lost its connection to the phone system (Asterisk ARI): calls are on hold"
    " until it is back; check that the dialer PBX is running."
)


async def health(request: web.Request) -> web.Response:
    """Anonymous: 200 while serving with ARI connected (or with no PBX attached), 503 while
    ARI is disconnected."""
    connected = engine_of(request).ari_connected()
    if connected is None:
        return web.json_response({"status": "ok", "ari": "not used"})
    if connected:
        return web.json_response({"status": "ok", "ari": "connected"})
    return web.json_response(
        {"status": "degraded", "ari": "disconnected", "message": ARI_DOWN}, status=503
    )
