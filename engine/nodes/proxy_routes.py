"""The front proxy's routes to several dialer nodes' SIP-over-WebSocket servers.

A browser softphone talks SIP over WebSocket to the Asterisk its session was placed on. With
one dialer PBX the proxy sends ``/ws`` to it (docker/Caddyfile). With ``[[nodes]]`` behind
the proxy (``web.public_url`` set), each node is reached at ``wss://<site>/<node name>/ws``:
the proxy imports one route file per node, written from the same ``[[nodes]]`` the engine
reads (``phonebank proxy-routes DIR``), so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from engine.config.sections import NodeConfig

ROUTE_SUFFIX = ".caddy"
"""docker/Caddyfile imports ``$PHONEBANK_NODE_ROUTES/*.caddy``."""


def node_ws_path(name: str) -> str:
    """The path of a node's SIP WebSocket on the proxy's site."""
    return f"/{name}/ws"


def softphone_ws_url(ari_url: str, public_url: str = "") -> str:
    """SIP over WebSocket is served by the same Asterisk HTTP server as ARI, at /ws; behind
    the TLS proxy (``public_url``) pages reach it as wss://<public host[:port]>/ws."""
    if public_url:
        return f"wss://{urlsplit(public_url).netloc}/ws"
    scheme, rest = ari_url.rstrip("/").split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/ws"


def node_ws_url(name: str, ari_url: str, public_url: str, several: bool) -> str:
    """Where a page's softphone reaches node ``name`` when ``[[nodes]]`` gives no ws_url:
    behind the proxy (``public_url``) wss://<site>/<name>/ws when there are ``several``
    nodes; otherwise as for one dialer PBX (softphone_ws_url)."""
    if public_url and several:
        return f"wss://{urlsplit(public_url).netloc}{node_ws_path(name)}"
    return softphone_ws_url(ari_url, public_url)


def caddy_route(name: str, path: str, upstream: str) -> str:
    """One node's route: ``path`` on the site, to Asterisk's /ws at ``upstream``
    (host:port); reverse_proxy passes the WebSocket upgrade and the 'sip' subprotocol."""
    return (
        f"# phonebank dialer node {name!r}: written from [[nodes]] by "
        "`phonebank proxy-routes`; do not edit.\n"
        f"handle {path} {{\n"
        "\trewrite * /ws\n"
        f"\treverse_proxy {upstream}\n"
        "}\n"
    )


def caddy_routes(nodes: Sequence[NodeConfig]) -> dict[str, str]:
    """File name → route for every node whose softphone WebSocket goes through the proxy:
    those without their own ``ws_url``, and those whose ``ws_url`` names a path other than
    /ws (a route is then needed for that path)."""
    routes: dict[str, str] = {}
    for node in nodes:
        path = urlsplit(node.ws_url).path if node.ws_url else node_ws_path(node.name)
        if path in ("", "/ws"):
            continue  # the node's own server, reached directly
        upstream = urlsplit(node.ari_url).netloc
        routes[f"{node.name}{ROUTE_SUFFIX}"] = caddy_route(node.name, path, upstream)
    return routes
