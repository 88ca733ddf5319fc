"""Whether the process is up: for load balancers and monitoring."""

from __future__ import annotations

from aiohttp import web


async def health(request: web.Request) -> web.Response:
    """Anonymous: the process is up and serving."""
    return web.json_response({"status": "ok"})
