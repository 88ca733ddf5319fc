"""Whether the process is up and reaches the dialer PBX: for load balancers, monitoring and the
containers' health checks."""

from __future__ import annotations

from aiohttp import web

from web.appkeys import engine_of

ARI_DOWN = (
    "phonebank has lost its connection to the phone system (Asterisk ARI): calls are on hold"
    " until it is back; check that the dialer PBX is running."
)


NODES_DOWN = (
    "phonebank reaches none of its dialer nodes (Asterisk ARI and trunk): calls are on hold"
    " until one is back; check the dialer nodes."
)


async def health(request: web.Request) -> web.Response:
    """Anonymous: 200 while serving with ARI connected (or with no PBX attached), 503 while
    ARI is disconnected. With several dialer nodes: each node's health under "nodes"; 200
    ("ok", or "degraded" while some node is unhealthy) while one node is healthy, else 503. One
    of several engines (PostgreSQL): also its id and the nodes it drives, under "engine"."""
    engine = engine_of(request)
    nodes = engine.node_health()
    cluster = await engine.engines_view()
    if cluster:
        # One of several engines: it reports the nodes it drives now; owning none (the
        # others drive them all) is healthy too.
        states = {name: "healthy" if ok else "unhealthy" for name, ok in nodes.items()}
        status = "ok" if all(nodes.values()) else "degraded"
        return web.json_response({"status": status, "nodes": states, "engine": cluster})
    if nodes:
        states = {name: "healthy" if ok else "unhealthy" for name, ok in nodes.items()}
        if all(nodes.values()):
            return web.json_response({"status": "ok", "nodes": states})
        if any(nodes.values()):
            return web.json_response({"status": "degraded", "nodes": states})
        return web.json_response(
            {"status": "down", "nodes": states, "message": NODES_DOWN}, status=503
        )
    connected = engine.ari_connected()
    if connected is None:
        return web.json_response({"status": "ok", "ari": "not used"})
    if connected:
        return web.json_response({"status": "ok", "ari": "connected"})
    return web.json_response(
        {"status": "degraded", "ari": "disconnected", "message": ARI_DOWN}, status=503
    )
