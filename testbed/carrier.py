"""The carrier simulator: a second Asterisk that plays the phone network, the voters (with
the synthetic voices) and the volunteers' phones, joined to the dialer PBX by a SIP trunk."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from engine.config import PbxConfig
from engine.errors import SetupError
from engine.pbx.dialer import PeerLink
from engine.pbx.instance import AsteriskInstance, InstanceSpec
from engine.pbx.ports import pick_port, pick_rtp_range
from engine.pbx.rootfs import AsteriskRuntime

CARRIER_APP = "carrier"


@dataclass(frozen=True)
class CarrierPorts:
    sip: int
    http: int


def pick_carrier_ports(cfg: PbxConfig, used: AbstractSet[int] = frozenset()) -> CarrierPorts:
    """The simulator's SIP and ARI ports (configured, or free ones outside ``used``: ports
    already picked for what is not listening yet). Raises SetupError."""
    sip = pick_port(
        socket.SOCK_DGRAM,
        cfg.carrier_sip_port,
        "carrier simulator's SIP",
        "pbx.carrier_sip_port",
        used,
    )
    http = pick_port(
        socket.SOCK_STREAM,
        cfg.carrier_http_port,
        "carrier simulator's ARI",
        "pbx.carrier_http_port",
        used | {sip},
    )
    return CarrierPorts(sip, http)


def link_to(ports: CarrierPorts) -> PeerLink:
    """How the dialer PBX reaches the simulator: endpoint 'carrier', calls from it arriving in
    the dialer's 'from-carrier' context."""
    return PeerLink(name="carrier", context="from-carrier", port=ports.sip)


def carrier_instance(
    runtime: AsteriskRuntime,
    base: PurePosixPath,
    ports: CarrierPorts,
    used: set[int],
    dialer_sip_port: int,
    voices: tuple[PurePosixPath, dict[str, Any]],
    hard: tuple[PurePosixPath, dict[str, Any]] | None = None,
) -> AsteriskInstance:
    """The carrier simulator of the run in ``base`` (not started), trunked to the dialer's
    SIP port, playing ``voices`` (their directory as Asterisk sees it, and their manifest) and,
    as behaviour 50, the clips of the harder AMD set ``hard`` (the same; None: no clips, every
    number of behaviour 50 is unallocated). Raises SetupError."""
    voices_dir, manifest = voices
    hard_dir, hard_manifest = (str(hard[0]), hard[1]) if hard is not None else ("", None)
    rtp = pick_rtp_range(used)
    spec = InstanceSpec(
        name="carrier",
        role="carrier",
        base=str(base / "carrier"),
        sip_port=ports.sip,
        http_port=ports.http,
        rtp_start=rtp[0],
        rtp_end=rtp[1],
        ari_user="carrier",
        ari_password=secrets.token_urlsafe(18),
        ari_app=CARRIER_APP,
        extra={
            "trunk": {
                "name": "dialer",
                "context": "from-dialer",
                "host": "127.0.0.1",
                "port": dialer_sip_port,
            },
            "voices_dir": str(voices_dir),
            "sip_bind": "127.0.0.1",
            "real_trunk": None,
            "recordings_dir": str(base / "carrier" / "recordings"),
            "voices": manifest["counts"],
            "hard_voices_dir": hard_dir,
            "hard_clips": hard_clips(hard_manifest) if hard_manifest is not None else [],
        },
    )
    return AsteriskInstance(spec, runtime)


def hard_clips(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Behaviour 50's variants: clip VV of the harder set is entry VV of its manifest's files,
    played from ``<kind>-<index>.wav``; ``person`` says whether it talks on afterwards.
    Raises SetupError when the set has more clips than two digits can number."""
    files = manifest["files"]
    if len(files) > 100:
        raise SetupError(
            f"the harder AMD set has {len(files)} clips; behaviour 50 numbers at most 100 "
            "(two digits): split data/voices-hard.toml"
        )
    return [
        {
            "variant": f"{n:02d}",
            "name": f"{f['kind']}-{f['index']}",
            "person": f["expected"] == "HUMAN",
        }
        for n, f in enumerate(files)
    ]
