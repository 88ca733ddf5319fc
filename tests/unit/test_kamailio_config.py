"""The Kamailio front's configuration (phonebank/kamailio.py): the production one written by
`phonebank kamailio` from [[nodes]] and [trunk], and the test bed's, from one template."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import Config, NodeConfig, TrunkConfig, load_config
from engine.errors import ConfigError
from phonebank.kamailio import (
    TEMPLATE,
    callin_networks,
    dispatcher_list,
    production_front,
    render_config,
)
from testbed.kamailio import KAMAILIO, KamailioFront

NODES = (
    NodeConfig("node1", "http://10.0.0.11:8088", "pb", "x", "10.0.0.11:5060"),
    NodeConfig("node2", "http://10.0.0.12:8088", "pb", "x", "10.0.0.12:5070"),
)


def production_cfg() -> Config:
    cfg = load_config(environ={})
    return dataclasses.replace(
        cfg, nodes=NODES, trunk=TrunkConfig(host="sip.carrier.example", port=5080)
    )


def test_the_dispatcher_list_names_each_node_by_its_duid() -> None:
    assert dispatcher_list({"node1": "10.0.0.11:5060", "node2": "10.0.0.12:5070"}) == (
        "1 sip:10.0.0.11:5060 0 0 duid=node1\n1 sip:10.0.0.12:5070 0 0 duid=node2\n"
    )


def test_the_production_front_listens_everywhere_advertises_and_relays_to_the_carrier(
    tmp_path: Path,
) -> None:
    settings = production_front(production_cfg(), "0.0.0.0:5060", tmp_path, "203.0.113.5:5060")
    config = render_config(settings)
    assert "listen=udp:0.0.0.0:5060 advertise 203.0.113.5:5060\n" in config
    assert '$du = "sip:sip.carrier.example:5080";' in config
    assert f'modparam("dispatcher", "list_file", "{tmp_path}/dispatcher.list")' in config
    assert '"ds_ping_from", "sip:front@203.0.113.5:5060"' in config
    assert "mpath" not in config  # Kamailio's own module directory
    assert "{{" not in config and "{%" not in config


@pytest.mark.parametrize(
    ("change", "listen", "error"),
    [
        ({"nodes": ()}, "10.0.0.5:5060", "no \\[\\[nodes\\]\\]"),
        ({"trunk": TrunkConfig()}, "10.0.0.5:5060", "trunk.host is not set"),
        ({}, "5060", "--listen must be ADDRESS:PORT"),
        ({}, "0.0.0.0:5060", "give --advertise"),
    ],
)
def test_a_front_missing_a_piece_says_which(
    change: dict[str, object], listen: str, error: str, tmp_path: Path
) -> None:
    cfg = dataclasses.replace(production_cfg(), **change)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=error):
        production_front(cfg, listen, tmp_path)


def test_the_test_bed_front_renders_the_same_template(tmp_path: Path) -> None:
    front = KamailioFront(tmp_path, 5099)
    config = front.render({"node1": 5071}, carrier_port=5098).read_text()
    assert TEMPLATE.parent.name == "docker"
    assert "listen=udp:127.0.0.1:5099\n" in config
    assert '$du = "sip:127.0.0.1:5098";' in config
    assert (tmp_path / "dispatcher.list").read_text() == "1 sip:127.0.0.1:5071 0 0 duid=node1\n"
    template_routes = TEMPLATE.read_text().split("request_route {", 1)[1].split("{% if")[0]
    assert template_routes in config  # the same routing as production


def test_the_kamailio_command_writes_both_files(tmp_path: Path) -> None:
    config = tmp_path / "phonebank.toml"
    config.write_text(
        '[trunk]\nhost = "sip.carrier.example"\n'
        '[[nodes]]\nname = "node1"\nari_url = "http://10.0.0.11:8088"\nari_user = "pb"\n'
        'ari_password = "x"\nsip_address = "10.0.0.11:5060"\n'
    )
    out = tmp_path / "kamailio"
    command = [sys.executable, "-m", "phonebank", "--config", str(config), "kamailio"]
    result = subprocess.run(
        [*command, "--out", str(out), "--listen", "10.0.0.5:5060"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}/kamailio.cfg" in result.stdout
    assert "dispatcher.reload" in result.stdout
    assert (out / "dispatcher.list").read_text() == "1 sip:10.0.0.11:5060 0 0 duid=node1\n"
    assert "listen=udp:10.0.0.5:5060\n" in (out / "kamailio.cfg").read_text()


def test_call_in_sources_are_networks_and_a_typo_is_named(tmp_path: Path) -> None:
    assert callin_networks(" 198.51.100.0/24, 203.0.113.7 ,,2001:db8::1") == (
        "198.51.100.0/24,203.0.113.7/32,2001:db8::1/128"
    )
    assert callin_networks("") == ""
    with pytest.raises(ConfigError, match=r"'carrier\.example' is not an IP address"):
        callin_networks("203.0.113.7,carrier.example")
    settings = production_front(production_cfg(), "10.0.0.5:5060", tmp_path, "", "203.0.113.7")
    text = render_config(settings)
    assert 'is_in_subnet("$si", "203.0.113.7/32")' in text
    assert 'loadmodule "ipops.so"' in text
    anywhere = render_config(production_front(production_cfg(), "10.0.0.5:5060", tmp_path))
    assert "is_in_subnet" not in anywhere and "ipops" not in anywhere


@pytest.mark.parametrize("callin_from", ["", "198.51.100.0/24,203.0.113.7"])
def test_kamailio_accepts_the_production_configuration(tmp_path: Path, callin_from: str) -> None:
    """`kamailio -c` parses it, loading every module it names (Debian's kamailio)."""
    settings = production_front(
        production_cfg(), "127.0.0.1:5060", tmp_path, callin_from=callin_from
    )
    (tmp_path / "kamailio.cfg").write_text(render_config(settings))
    (tmp_path / "dispatcher.list").write_text(dispatcher_list({"node1": "10.0.0.11:5060"}))
    check = subprocess.run(
        [KAMAILIO, "-c", "-f", str(tmp_path / "kamailio.cfg")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert check.returncode == 0, check.stderr[-2000:]
    assert "config file ok" in check.stdout + check.stderr
