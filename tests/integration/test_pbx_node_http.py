"""A dialer PBX started to be one node of several (docs/scaling.md, "Adding a node"): its HTTP
server (ARI, the softphone WebSocket) listens on the address pbx.dialer_http_bind names, not
on loopback, and its ARI password is the fixed pbx.dialer_ari_password the engines' [[nodes]]
entry holds. Here the "private address" is 127.0.0.2, another loopback address."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket

import aiohttp

from engine.config import load_config
from engine.pbx.dialer import start_dialer

PASSWORD = "Node3FixedPassword2026"


async def ari_status(host: str, port: int, password: str) -> int:
    auth = {"Authorization": aiohttp.BasicAuth("phonebank", password).encode()}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://{host}:{port}/ari/asterisk/info", headers=auth) as response,
    ):
        return response.status


def refused(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) != 0


async def test_a_node_s_ari_listens_on_its_private_address_with_a_fixed_password() -> None:
    base = load_config().pbx
    cfg = dataclasses.replace(
        base, dialer_http_bind="127.0.0.2", dialer_ari_password=PASSWORD, dialer_http_port=0
    )
    run = start_dialer(cfg, f"test-{os.getpid()}-node-http", None)
    try:
        spec = run.dialer.spec
        assert spec.ari_url == f"http://127.0.0.2:{spec.http_port}"
        assert spec.ari_password == PASSWORD
        assert await ari_status("127.0.0.2", spec.http_port, PASSWORD) == 200
        assert await ari_status("127.0.0.2", spec.http_port, "not-" + PASSWORD) == 401
        assert refused("127.0.0.1", spec.http_port)  # not on loopback
    finally:
        run.stop()
        shutil.rmtree(run.run_dir, ignore_errors=True)
