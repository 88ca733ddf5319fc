"""``[[nodes]]``: the dialer nodes one engine drives (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import NodeConfig, load_config
from engine.errors import ConfigError

NODE = """
[[nodes]]
name = "{name}"
ari_url = "{ari_url}"
ari_user = "phonebank"
ari_password = "secret"
sip_address = "{sip}"
{extra}
"""


def node_toml(name: str = "node1", ari_url: str = "http://10.0.0.11:8088", **kw: str) -> str:
    return NODE.format(
        name=name, ari_url=ari_url, sip=kw.get("sip", "10.0.0.11:5060"), extra=kw.get("extra", "")
    )


def load(tmp_path: Path, text: str) -> tuple[NodeConfig, ...]:
    path = tmp_path / "phonebank.toml"
    path.write_text(text)
    return load_config(path, environ={}).nodes


def test_no_nodes_by_default() -> None:
    assert load_config(environ={}).nodes == ()


def test_two_nodes_load_in_order_with_their_settings(tmp_path: Path) -> None:
    nodes = load(
        tmp_path,
        node_toml("node1", extra='ws_url = "wss://dial.example.org/node1/ws"')
        + node_toml("node2", "https://10.0.0.12:8089", sip="10.0.0.12:5060"),
    )
    assert [n.name for n in nodes] == ["node1", "node2"]
    assert nodes[0] == NodeConfig(
        "node1",
        "http://10.0.0.11:8088",
        "phonebank",
        "secret",
        "10.0.0.11:5060",
        "wss://dial.example.org/node1/ws",
    )
    assert nodes[1].ari_url == "https://10.0.0.12:8089"
    assert nodes[1].ws_url == ""


def test_two_nodes_with_one_name_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nodes\[1\] \('node1'\).name: two nodes are named"):
        load(tmp_path, node_toml("node1") + node_toml("node1", sip="10.0.0.12:5060"))


@pytest.mark.parametrize("name", ["", "node 1", "-node", "n" * 41, "nöde"])
def test_a_bad_node_name_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match=r"nodes\[0\].*name must be"):
        load(tmp_path, node_toml(name))


@pytest.mark.parametrize(
    "url", ["10.0.0.11:8088", "ftp://10.0.0.11:21", "http://10.0.0.11", "http://h:8088/ari", ""]
)
def test_a_bad_ari_url_is_named(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match=r"nodes\[0\] \('node1'\).ari_url must be http"):
        load(tmp_path, node_toml(ari_url=url))


@pytest.mark.parametrize("sip", ["10.0.0.11", "10.0.0.11:0", ":5060", "h:99999", "h:x"])
def test_a_bad_sip_address_is_named(tmp_path: Path, sip: str) -> None:
    with pytest.raises(ConfigError, match=r"sip_address must be host:port"):
        load(tmp_path, node_toml(sip=sip))


def test_a_ws_url_that_is_not_a_websocket_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ws_url must be a ws:// or wss://"):
        load(tmp_path, node_toml(extra='ws_url = "https://dial.example.org/ws"'))


def test_missing_ari_credentials_are_named(tmp_path: Path) -> None:
    text = node_toml().replace('ari_password = "secret"\n', "")
    with pytest.raises(ConfigError, match="set ari_user and ari_password"):
        load(tmp_path, text)


def test_an_unknown_node_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown config key 'nodes\[0\].ari_port'"):
        load(tmp_path, node_toml(extra="ari_port = 8088"))


def test_nodes_as_a_single_table_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"must be an array of tables \(\[\[nodes\]\]\)"):
        load(tmp_path, '[nodes]\nname = "node1"\n')


def test_a_node_s_sounds_dir_is_a_path_on_the_node(tmp_path: Path) -> None:
    (node,) = load(tmp_path, node_toml(extra='sounds_dir = "/srv/phonebank/sounds"'))
    assert node.sounds_dir == "/srv/phonebank/sounds"
    with pytest.raises(ConfigError, match=r"nodes\[0\] \('node1'\).sounds_dir must be an abs"):
        load(tmp_path, node_toml(extra='sounds_dir = "sounds"'))
