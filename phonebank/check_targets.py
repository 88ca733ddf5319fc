"""What `phonebank check` probes and the sentences it prints: pure, no I/O
(phonebank/check.py does the probing)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_TURN_PORT = 3478
DEFAULT_TURNS_PORT = 5349


@dataclass(frozen=True)
class TurnTarget:
    url: str
    host: str
    port: int
    transport: str
    """``udp`` (a STUN Binding request is sent), ``tcp`` or ``tls`` (a TCP connection)."""


def turn_targets(urls: list[str]) -> list[TurnTarget]:
    """One target per distinct (host, port, transport) of the configured TURN URLs, e.g.
    ``turn:dial.example.org:3478?transport=udp``; turn: without a transport is UDP."""
    seen: dict[tuple[str, int, str], TurnTarget] = {}
    for url in urls:
        scheme, _, rest = url.partition(":")
        address, _, query = rest.partition("?")
        secure = scheme.lower() == "turns"
        parts = urlsplit(f"//{address}")
        port = parts.port or (DEFAULT_TURNS_PORT if secure else DEFAULT_TURN_PORT)
        params = dict(p.partition("=")[::2] for p in query.split("&") if p)
        transport = "tls" if secure else params.get("transport", "udp").lower()
        key = (parts.hostname or "", port, transport)
        seen.setdefault(key, TurnTarget(url, *key))
    return list(seen.values())


def public_site(public_url: str) -> tuple[str, int]:
    """(host, port) of web.public_url; 443 when it names no port."""
    parts = urlsplit(public_url)
    return parts.hostname or "", parts.port or 443


def no_certificate(public_url: str) -> str:
    host, _ = public_site(public_url)
    return (
        f"{public_url} has no valid certificate: the proxy could not obtain one. Check that "
        f"{host}'s DNS points to this server and ports 80 and 443 are open."
    )


def unreachable(public_url: str) -> str:
    _, port = public_site(public_url)
    return (
        f"{public_url} does not answer on port {port}: start the proxy (Caddy) and open "
        f"TCP port {port} in the firewall."
    )


def health_failed(public_url: str, what: str) -> str:
    return (
        f"{public_url}/api/health does not answer through the proxy ({what}): check that "
        "phonebank is running and the proxy forwards to its web port ([web] host and port)."
    )


def websocket_failed(what: str) -> str:
    return (
        f"the proxy does not forward WebSocket upgrades for /ws: {what}. Forward /ws to the "
        "dialer PBX's HTTP port (docker/Caddyfile's 'handle /ws'), or the browser softphone "
        "cannot connect."
    )


def turn_failed(target: TurnTarget) -> str:
    how = "over UDP" if target.transport == "udp" else "over TCP"
    return (
        f"the TURN server {target.url} does not answer {how}: start coturn and open "
        f"{target.transport.replace('tls', 'tcp').upper()} port {target.port} and its relay "
        "ports in the firewall; volunteers behind strict NAT get no audio without it."
    )
