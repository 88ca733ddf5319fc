"""The separate listener of ``web.metrics_address``: /metrics alone, without authentication,
for a Prometheus on a private network (keep the address private)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from engine.app import Engine
from engine.errors import SetupError
from web.appkeys import ENGINE, OPEN_METRICS
from web.routes import setup_metrics_listener_routes

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def metrics_listener(engine: Engine, listen: tuple[str, int] | None) -> AsyncIterator[str]:
    """Serve /metrics alone on `listen` (host, port; port 0 picks a free one) until the block
    exits; yields its URL, or "" when `listen` is None. Raises SetupError when it cannot bind."""
    if listen is None:
        yield ""
        return
    app = web.Application()
    app[ENGINE] = engine
    app[OPEN_METRICS] = True
    setup_metrics_listener_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, *listen)
        try:
            await site.start()
        except OSError as exc:
            raise SetupError(
                f"web.metrics_address {listen[0]}:{listen[1]} cannot be used ({exc.strerror}):"
                " free that port or change web.metrics_address (PHONEBANK_WEB_METRICS_ADDRESS)"
            ) from None
        host, port = runner.addresses[0][:2]
        url = f"http://[{host}]:{port}/metrics" if ":" in host else f"http://{host}:{port}/metrics"
        log.info("Prometheus metrics at %s (no authentication: keep this address private)", url)
        yield url
    finally:
        await runner.cleanup()
