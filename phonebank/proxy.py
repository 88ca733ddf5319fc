"""`phonebank proxy-routes DIR`: the front proxy's routes to the dialer nodes' SIP WebSockets
(engine/nodes/proxy_routes.py), one file per node of ``[[nodes]]``, for docker/Caddyfile to
import (PHONEBANK_NODE_ROUTES)."""

from __future__ import annotations

from pathlib import Path

from engine.config import Config
from engine.errors import ConfigError
from engine.nodes.proxy_routes import ROUTE_SUFFIX, caddy_routes

WRITTEN_MARK = "# phonebank dialer node "
"""The first words of every file written here: only those are ever removed."""


def write_node_routes(cfg: Config, out: Path) -> tuple[list[Path], list[Path]]:
    """Write a route per node into ``out`` and remove the routes of nodes no longer listed;
    return (written, removed). Raises ConfigError without ``[[nodes]]`` or ``web.public_url``
    (pages would not reach the nodes through the proxy)."""
    if not cfg.nodes:
        raise ConfigError(
            "there is no [[nodes]] in the configuration: with one dialer PBX the proxy's /ws "
            "route (docker/Caddyfile) is all it needs"
        )
    if not cfg.web.public_url:
        raise ConfigError(
            "set web.public_url (PHONEBANK_PUBLIC_URL) to the proxy's https:// address: the "
            "pages reach each node's softphone WebSocket there, at /<node name>/ws"
        )
    out.mkdir(parents=True, exist_ok=True)
    routes = caddy_routes(cfg.nodes)
    removed = [
        path
        for path in sorted(out.glob(f"*{ROUTE_SUFFIX}"))
        if path.name not in routes and path.read_text().startswith(WRITTEN_MARK)
    ]
    for path in removed:
        path.unlink()
    written = []
    for name, route in routes.items():
        path = out / name
        path.write_text(route)
        written.append(path)
    return written, removed
