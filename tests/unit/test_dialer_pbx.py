"""The dialer PBX's SIP configuration: production's (a real carrier's endpoint 'trunk', no
simulator) and the test bed's (linked to the carrier simulator as endpoint 'carrier')."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
import pytest

from engine.config import TrunkConfig, load_config
from engine.errors import SetupError
from engine.pbx.dialer import (
    DialerPorts,
    PeerLink,
    dialer_instance,
    pick_dialer_ports,
    real_trunk_of,
)
from engine.pbx.instance import TEMPLATES
from engine.pbx.rootfs import AsteriskRuntime

RUNTIME = AsteriskRuntime(Path("/"), PurePosixPath("/usr/sbin/asterisk"), False, 0, 0)
PORTS = DialerPorts(sip=5070, http=8090, rtp=(20000, 20999))


def pjsip_conf(trunk: TrunkConfig | None, link: PeerLink | None) -> str:
    cfg = load_config(environ={}).pbx
    spec = dialer_instance(cfg, RUNTIME, PurePosixPath("/run/x"), PORTS, trunk, link).spec
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([TEMPLATES / "dialer", TEMPLATES / "common"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    context: dict[str, Any] = {**spec.extra, **spec.to_json(), "banner": ""}
    return env.get_template("pjsip.conf.j2").render(context)


def test_production_has_the_carrier_trunk_and_no_simulator_link() -> None:
    trunk = real_trunk_of(TrunkConfig(host="sip.example.net", username="acct", password="pw"))
    conf = pjsip_conf(trunk, None)
    assert "[trunk]\ntype = endpoint" in conf
    assert "contact = sip:sip.example.net:5060" in conf
    assert "context = from-carrier" in conf
    assert "[carrier]" not in conf


def test_the_test_bed_links_the_simulator_as_endpoint_carrier() -> None:
    conf = pjsip_conf(None, PeerLink(name="carrier", context="from-carrier", port=5080))
    assert "[carrier]\ntype = endpoint" in conf
    assert "match = 127.0.0.1:5080" in conf
    assert "[trunk]" not in conf


def test_a_trunk_without_a_host_is_no_carrier() -> None:
    assert real_trunk_of(TrunkConfig()) is None
    assert real_trunk_of(None) is None


def test_a_configured_rtp_range_is_used_as_given() -> None:
    """Production opens one fixed media range in its firewall (docs/deploy.md)."""
    cfg = load_config(environ={"PHONEBANK_PBX_DIALER_RTP_PORTS": "10000-10999"}).pbx
    ports = pick_dialer_ports(cfg, set())
    assert ports.rtp == (10000, 10999)


def test_an_rtp_range_over_the_sip_port_is_refused() -> None:
    environ = {
        "PHONEBANK_PBX_DIALER_RTP_PORTS": "20000-20999",
        "PHONEBANK_PBX_DIALER_SIP_PORT": "0",
    }
    cfg = load_config(environ=environ).pbx
    with pytest.raises(SetupError, match="overlaps"):
        pick_dialer_ports(cfg, set(range(20500, 20502)))
