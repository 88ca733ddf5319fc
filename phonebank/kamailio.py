"""The Kamailio SIP front's configuration, from docker/kamailio.cfg.j2: the one template both
`phonebank kamailio` (production, the dispatcher list from ``[[nodes]]``) and the test bed's
front (testbed/kamailio.py) render.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import jinja2

from engine.config import Config
from engine.errors import ConfigError

TEMPLATE = Path(__file__).resolve().parents[1] / "docker" / "kamailio.cfg.j2"
NODE_SET = 1
"""The dispatcher set holding the dialer nodes."""
RUN_DIR = "/run/kamailio"
"""Where Debian's kamailio service may create its sockets."""


@dataclass(frozen=True)
class FrontSettings:
    """What differs between one Kamailio front and another."""

    listen: str
    """``address:port`` of its UDP socket (0.0.0.0 for every address)."""
    ping_from: str
    """``host:port`` the OPTIONS probes come from (an address the nodes can answer)."""
    list_file: str
    """The dispatcher list (set 1: the nodes)."""
    rpc_socket: str
    """The JSON-RPC Unix datagram socket (dispatcher.reload, dispatcher.list)."""
    carrier: str
    """``host:port`` every node's outbound call goes to; empty: refused."""
    banner: str
    probe_interval: int = 2
    reply_timeout_ms: int = 1500
    module_dir: str = ""
    """Kamailio's module directory; empty: the one it was built with."""
    advertise: str = ""
    """``address:port`` to put in SIP headers when behind NAT; empty: the listen address."""
    ctl_socket: str = ""
    """kamcmd's Unix socket (the ctl module); empty: no ctl module."""
    children: int = 2
    debug: int = 2
    callin_from: str = ""
    """Comma-separated networks (CIDR) call-ins may come from (the carrier's); empty: any."""


def render_config(settings: FrontSettings) -> str:
    """kamailio.cfg for ``settings``."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE.parent),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template(TEMPLATE.name).render(**asdict(settings))


def dispatcher_list(nodes: Mapping[str, str]) -> str:
    """The dispatcher list of ``nodes`` (name: SIP ``host:port``), each with its name as the
    ``duid`` the call-load algorithm counts by."""
    return "".join(f"{NODE_SET} sip:{address} 0 0 duid={name}\n" for name, address in nodes.items())


def callin_networks(sources: str) -> str:
    """``sources`` ("198.51.100.0/24, 203.0.113.7") as Kamailio's is_in_subnet list, each a
    network in CIDR form ("198.51.100.0/24,203.0.113.7/32"); "" stays "" (any source).
    Raises ConfigError naming a part that is not an address or network."""
    networks = []
    for part in (p.strip() for p in sources.split(",")):
        if not part:
            continue
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as error:
            raise ConfigError(
                f"--callin-from: {part!r} is not an IP address or network "
                "(e.g. 198.51.100.0/24,203.0.113.7)"
            ) from error
    return ",".join(networks)


def production_front(
    cfg: Config, listen: str, out: Path, advertise: str = "", callin_from: str = ""
) -> FrontSettings:
    """The front for ``cfg``'s ``[[nodes]]`` and ``[trunk]`` carrier, listening on ``listen``
    with its files in ``out``. Raises ConfigError for a missing piece."""
    if not cfg.nodes:
        raise ConfigError("no [[nodes]] in the configuration: the front has nobody to call")
    if not cfg.trunk.host:
        raise ConfigError(
            "trunk.host is not set: set [trunk] host and port to the SIP carrier the nodes' "
            "outbound calls go to through the front"
        )
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigError(f"--listen must be ADDRESS:PORT, e.g. 0.0.0.0:5060, not {listen!r}")
    shown = advertise or (listen if host not in ("0.0.0.0", "::") else "")
    if not shown:
        raise ConfigError(
            "--listen is 0.0.0.0: give --advertise ADDRESS:PORT, the address the nodes and "
            "the carrier send to"
        )
    return FrontSettings(
        listen=listen,
        ping_from=shown,
        list_file=str(out / "dispatcher.list"),
        rpc_socket=f"{RUN_DIR}/kamailio_rpc.sock",
        ctl_socket=f"{RUN_DIR}/kamailio_ctl",
        carrier=f"{cfg.trunk.host}:{cfg.trunk.port}",
        banner="Written by `phonebank kamailio` from docker/kamailio.cfg.j2.",
        advertise=advertise,
        children=4,
        callin_from=callin_networks(callin_from),
    )


def write_front(
    cfg: Config, listen: str, out: Path, advertise: str = "", callin_from: str = ""
) -> list[Path]:
    """Write kamailio.cfg and dispatcher.list into ``out``; returns their paths."""
    settings = production_front(cfg, listen, out, advertise, callin_from)
    out.mkdir(parents=True, exist_ok=True)
    config = out / "kamailio.cfg"
    config.write_text(render_config(settings))
    listing = out / "dispatcher.list"
    listing.write_text(dispatcher_list({node.name: node.sip_address for node in cfg.nodes}))
    return [config, listing]
