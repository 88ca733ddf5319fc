"""The checks of ``[[nodes]]``: each node named once, with addresses that parse."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from engine.config.sections import NodeConfig
from engine.errors import ConfigError

NODE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")


def check_nodes(nodes: Sequence[NodeConfig]) -> None:
    """Raise ConfigError naming the first node (by position and name) with a bad value."""
    seen: set[str] = set()
    for index, node in enumerate(nodes):
        where = f"nodes[{index}]" + (f" ({node.name!r})" if node.name else "")
        if not NODE_NAME.fullmatch(node.name):
            raise ConfigError(
                f"{where}.name must be 1-40 letters, digits, '-' or '_', not {node.name!r}"
            )
        if node.name in seen:
            raise ConfigError(f"{where}.name: two nodes are named {node.name!r}; names must differ")
        seen.add(node.name)
        if not _is_origin(node.ari_url, ("http", "https")):
            raise ConfigError(
                f"{where}.ari_url must be http(s)://host:port, e.g. http://10.0.0.11:8088, "
                f"not {node.ari_url!r}"
            )
        if not node.ari_user or not node.ari_password:
            raise ConfigError(f"{where}: set ari_user and ari_password (the node's ari.conf user)")
        if not _is_host_port(node.sip_address):
            raise ConfigError(
                f"{where}.sip_address must be host:port, e.g. 10.0.0.11:5060, "
                f"not {node.sip_address!r}"
            )
        if node.ws_url and not _is_ws_url(node.ws_url):
            raise ConfigError(
                f"{where}.ws_url must be a ws:// or wss:// address, e.g. "
                f"wss://dial.example.org/{node.name}/ws, not {node.ws_url!r}"
            )
        if node.sounds_dir and not PurePosixPath(node.sounds_dir).is_absolute():
            raise ConfigError(
                f"{where}.sounds_dir must be an absolute path on the node, e.g. "
                f"/var/lib/phonebank/sounds, not {node.sounds_dir!r}"
            )


def _is_origin(url: str, schemes: tuple[str, ...]) -> bool:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme in schemes
        and bool(parts.hostname)
        and port is not None
        and parts.path in ("", "/")
        and not (parts.query or parts.fragment or parts.username)
    )


def _is_ws_url(url: str) -> bool:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (reading it checks the port)
    except ValueError:
        return False
    return parts.scheme in ("ws", "wss") and bool(parts.hostname) and not parts.username


def _is_host_port(address: str) -> bool:
    host, sep, port = address.rpartition(":")
    return bool(sep and host and port.isdigit() and 0 < int(port) < 65536 and " " not in host)
