"""The dialer PBX: the one Asterisk instance the product needs, started on its own.

``start_dialer`` builds or reuses the rootfs, picks free ports, generates ARI credentials,
renders the dialer's configuration and starts it as a run of one instance
(engine/pbx/run.py). The phone network is the real carrier of ``[trunk]``; the test bed
(testbed/pair.py) starts the same instance linked to its carrier simulator instead.
"""

from __future__ import annotations

import dataclasses
import secrets
import socket
from dataclasses import dataclass
from pathlib import PurePosixPath

from engine.config import PbxConfig, TrunkConfig, rtp_port_range
from engine.errors import SetupError
from engine.pbx.instance import AsteriskInstance, InstanceSpec
from engine.pbx.ports import pick_port, pick_rtp_range
from engine.pbx.rootfs import AsteriskRuntime, ensure_runtime
from engine.pbx.run import PbxRun, config_fingerprint, open_run_dir, start_run

DIALER_APP = "phonebank"


@dataclass(frozen=True)
class PeerLink:
    """Another SIP instance on this machine that the dialer PBX reaches through an endpoint of
    its own, matched by address and port (the test bed's carrier simulator: endpoint
    'carrier', whose calls arrive in the dialer's 'from-carrier' context)."""

    name: str
    context: str
    port: int
    host: str = "127.0.0.1"


@dataclass(frozen=True)
class DialerPorts:
    sip: int
    http: int
    rtp: tuple[int, int]


def real_trunk_of(trunk: TrunkConfig | None) -> TrunkConfig | None:
    """The configured carrier, or None when ``[trunk]`` names no host."""
    return trunk if trunk is not None and trunk.host else None


def pick_dialer_ports(cfg: PbxConfig, used: set[int]) -> DialerPorts:
    """The dialer's SIP and ARI ports (configured, or free ones) and a free RTP range.
    Raises SetupError naming a configured port that is taken."""
    configured = rtp_port_range(cfg.dialer_rtp_ports)
    media = range(configured[0], configured[1] + 1) if configured else range(0)
    taken = used.union(media)
    sip = pick_port(
        socket.SOCK_DGRAM, cfg.dialer_sip_port, "dialer PBX's SIP", "pbx.dialer_sip_port", taken
    )
    http = pick_port(
        socket.SOCK_STREAM,
        cfg.dialer_http_port,
        "dialer PBX's ARI",
        "pbx.dialer_http_port",
        taken | {sip},
    )
    if configured is None:
        return DialerPorts(sip, http, pick_rtp_range(used | {sip, http}))
    if (used | {sip, http}).intersection(media):
        raise SetupError(
            f"pbx.dialer_rtp_ports {cfg.dialer_rtp_ports} overlaps the PBX's SIP or ARI port "
            "(or the test bed's other PBX): choose another range"
        )
    return DialerPorts(sip, http, configured)


def dialer_instance(
    cfg: PbxConfig,
    runtime: AsteriskRuntime,
    base: PurePosixPath,
    ports: DialerPorts,
    real_trunk: TrunkConfig | None,
    link: PeerLink | None = None,
) -> AsteriskInstance:
    """The dialer PBX of the run in ``base`` (not started): a real carrier's endpoint 'trunk'
    when ``real_trunk`` is set, a ``link`` endpoint when given."""
    spec = InstanceSpec(
        name="dialer",
        role="dialer",
        base=str(base / "dialer"),
        sip_port=ports.sip,
        http_port=ports.http,
        rtp_start=ports.rtp[0],
        rtp_end=ports.rtp[1],
        ari_user="phonebank",
        ari_password=cfg.dialer_ari_password or secrets.token_urlsafe(18),
        ari_app=DIALER_APP,
        http_bind=cfg.dialer_http_bind,
        extra={
            "trunk": dataclasses.asdict(link) if link else None,
            "callin_number": cfg.callin_number,
            "amd_args": cfg.amd_args,
            "sip_bind": real_trunk.bind if real_trunk else "127.0.0.1",
            "real_trunk": dataclasses.asdict(real_trunk) if real_trunk else None,
        },
    )
    return AsteriskInstance(spec, runtime)


def start_dialer(
    cfg: PbxConfig, tag: str, real_trunk: TrunkConfig | None, *, detached: bool = False
) -> PbxRun:
    """Start the dialer PBX alone for run ``tag``, its phone network the carrier of
    ``real_trunk``. Raises SetupError or PbxStartError."""
    real = real_trunk_of(real_trunk)
    runtime = ensure_runtime(cfg)
    base = open_run_dir(cfg, runtime, tag, ("dialer",))
    dialer = dialer_instance(cfg, runtime, base, pick_dialer_ports(cfg, set()), real)
    run = PbxRun((dialer,), runtime.host_path(base), config_fingerprint(cfg, real), {})
    start_run(run, cfg.start_timeout, detached=detached)
    return run
