"""The front proxy's routes to several dialer nodes (engine/nodes/proxy_routes.py,
`phonebank proxy-routes`), and Caddy reading them through docker/Caddyfile."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path

import pytest

from engine.config import Config
from engine.config.sections import NodeConfig, WebConfig
from engine.errors import ConfigError
from engine.nodes.proxy_routes import caddy_routes, node_ws_url
from engine.nodes.runtime import node_specs
from phonebank.proxy import write_node_routes
from testbed.proxy import CADDY, CADDYFILE

SITE = "https://dial.example.org"


def node(name: str, host: str, ws_url: str = "") -> NodeConfig:
    return NodeConfig(name, f"http://{host}:8088", "u", "p", f"{host}:5060", ws_url)


NODES = (node("node1", "10.0.0.11"), node("node2", "10.0.0.12"))


def test_behind_the_proxy_each_of_several_nodes_has_its_own_path() -> None:
    assert node_ws_url("node1", "http://10.0.0.11:8088", SITE, True) == (
        "wss://dial.example.org/node1/ws"
    )
    assert node_ws_url("node1", "http://10.0.0.11:8088", SITE, False) == (
        "wss://dial.example.org/ws"
    )
    assert node_ws_url("node1", "http://10.0.0.11:8088", "", True) == "ws://10.0.0.11:8088/ws"


def test_the_engine_gives_pages_the_paths_the_routes_serve() -> None:
    cfg = Config(web=WebConfig(public_url=SITE), nodes=NODES)
    assert [spec.ws_url for spec in node_specs(cfg)] == [
        "wss://dial.example.org/node1/ws",
        "wss://dial.example.org/node2/ws",
    ]
    routes = caddy_routes(NODES)
    assert list(routes) == ["node1.caddy", "node2.caddy"]
    assert "handle /node2/ws {" in routes["node2.caddy"]
    assert "reverse_proxy 10.0.0.12:8088" in routes["node2.caddy"]


def test_a_node_with_its_own_websocket_needs_no_route() -> None:
    own = node("node3", "10.0.0.13", ws_url="wss://node3.example.org:8089/ws")
    routed = node("node4", "10.0.0.14", ws_url="wss://dial.example.org/east/ws")
    routes = caddy_routes([own, routed])
    assert list(routes) == ["node4.caddy"]
    assert "handle /east/ws {" in routes["node4.caddy"]


def test_writing_the_routes_removes_those_of_nodes_taken_out(tmp_path: Path) -> None:
    cfg = Config(web=WebConfig(public_url=SITE), nodes=NODES)
    (tmp_path / "mine.caddy").write_text("respond /x 200\n")  # not ours: kept
    write_node_routes(cfg, tmp_path)
    written, removed = write_node_routes(dataclasses.replace(cfg, nodes=NODES[:1]), tmp_path)
    assert [p.name for p in written] == ["node1.caddy"]
    assert [p.name for p in removed] == ["node2.caddy"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.caddy", "node1.caddy"]


def test_routes_need_nodes_and_the_public_address(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no \[\[nodes\]\]"):
        write_node_routes(Config(web=WebConfig(public_url=SITE)), tmp_path)
    with pytest.raises(ConfigError, match=r"web\.public_url"):
        write_node_routes(Config(nodes=NODES), tmp_path)


def caddy_json(routes: Path) -> str:
    env = {**os.environ, "PHONEBANK_NODE_ROUTES": str(routes), "PHONEBANK_SITE": SITE}
    adapted = subprocess.run(
        [CADDY, "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=30,
    )
    return json.dumps(json.loads(adapted.stdout))


def test_caddy_takes_the_written_routes_and_runs_without_any(tmp_path: Path) -> None:
    assert "/node1/ws" not in caddy_json(tmp_path)  # no nodes: the single /ws route only
    write_node_routes(Config(web=WebConfig(public_url=SITE), nodes=NODES), tmp_path)
    adapted = caddy_json(tmp_path)
    for path, upstream in (("/node1/ws", "10.0.0.11:8088"), ("/node2/ws", "10.0.0.12:8088")):
        assert f'"path": ["{path}"]' in adapted
        assert f'"dial": "{upstream}"' in adapted
    assert '"uri": "/ws"' in adapted  # the node's Asterisk serves SIP at /ws
