"""The app on the PBX pair behind a real Caddy (/usr/bin/caddy, docker/Caddyfile, `tls
internal`) on loopback, with web.public_url set to Caddy's address: pages over HTTPS with
Caddy's CA trusted, HSTS and Secure cookies, the volunteer events WebSocket and Asterisk's SIP
WebSocket (/ws, subprotocol sip) through the proxy, the softphone pointed at wss://<proxy>/ws,
and the rate limits counting each volunteer's forwarded address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from testbed.pair import PbxPair
from testbed.proxy import ProxiedApp, RunningCaddy, running_proxied_app

OPERATOR = ("olive", "correct horse battery")


def client(caddy: RunningCaddy, local_address: str = "127.0.0.1") -> aiohttp.ClientSession:
    """A client of the site trusting only Caddy's CA, connecting from ``local_address``."""
    connector = aiohttp.TCPConnector(ssl=caddy.ssl_context(), local_addr=(local_address, 0))
    return aiohttp.ClientSession(caddy.url, connector=connector)


@pytest.fixture
async def proxied(pbx_pair: PbxPair, tmp_path: Path) -> AsyncIterator[ProxiedApp]:
    async with running_proxied_app(pbx_pair, tmp_path / "engine.db") as running:
        yield running


async def sign_in_browser(http: aiohttp.ClientSession, campaign: str) -> dict[str, Any]:
    person = {"name": "Ada", "email": "ada@example.org", "phone": "555-0100"}
    async with http.post("/api/signup", json=person) as response:
        assert response.status == 201, await response.text()
        creds = await response.json()
    body = {**creds, "campaign": campaign, "audio_mode": "browser"}
    body.pop("note")
    async with http.post("/api/signin", json=body) as response:
        assert response.status == 201, await response.text()
        signed: dict[str, Any] = await response.json()
    return signed


async def test_pages_cookies_and_both_websockets_work_through_the_proxy(
    proxied: ProxiedApp,
) -> None:
    caddy = proxied.caddy
    campaign = await proxied.engine.operators.create_campaign("test", "Proxy Canvass")
    async with client(caddy) as http:
        async with http.get("/") as response:
            assert response.status == 200
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        async with http.get("/operator/login") as response:
            assert response.status == 200
            assert "Secure" in response.headers["Set-Cookie"]

        signed = await sign_in_browser(http, campaign.name)
        auth = {"Authorization": f"Bearer {signed['token']}"}
        async with http.get("/api/session", headers=auth) as response:
            softphone = (await response.json())["softphone"]
        assert softphone["ws_url"] == f"wss://127.0.0.1:{caddy.https_port}/ws"
        assert softphone["uri"] == "sip:join@127.0.0.1"

        events = f"/api/session/events?token={signed['token']}"
        async with http.ws_connect(events, origin=caddy.url) as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "snapshot"

        async with http.ws_connect("/ws", protocols=("sip",), origin=caddy.url) as sip:
            assert sip.protocol == "sip"
        async with http.post("/api/session/logout", headers=auth) as response:
            assert response.status == 200


async def operator_login(http: aiohttp.ClientSession, password: str) -> int:
    body = {"username": OPERATOR[0], "password": password}
    async with http.post("/api/operator/login", json=body) as response:
        return response.status


async def test_rate_limits_count_the_address_the_proxy_forwarded(proxied: ProxiedApp) -> None:
    """Caddy forwards each client's own loopback address (127.0.0.2, 127.0.0.3) in
    X-Forwarded-For; the app's direct peer is always Caddy at 127.0.0.1."""
    await proxied.engine.operators.add_operator(*OPERATOR)
    caddy = proxied.caddy
    async with client(caddy, "127.0.0.2") as first, client(caddy, "127.0.0.3") as second:
        for _ in range(5):
            assert await operator_login(first, "wrong password!") == 401
        assert await operator_login(first, OPERATOR[1]) == 429
        assert await operator_login(second, OPERATOR[1]) == 200


async def volunteer_sign_in(
    http: aiohttp.ClientSession, creds: dict[str, str], campaign: str, password: str
) -> int:
    body = {"login_id": creds["login_id"], "password": password, "campaign": campaign}
    async with http.post("/api/signin", json=body) as response:
        return response.status


async def test_volunteer_sign_in_limits_count_the_forwarded_address(proxied: ProxiedApp) -> None:
    """Five wrong passwords for one Login ID lock it from that volunteer's address only."""
    campaign = (await proxied.engine.operators.create_campaign("test", "Limits")).name
    caddy = proxied.caddy
    async with client(caddy, "127.0.0.2") as first, client(caddy, "127.0.0.3") as second:
        person = {"name": "Ada", "email": "ada@example.org", "phone": "555-0100"}
        async with first.post("/api/signup", json=person) as response:
            creds = await response.json()
        for _ in range(5):
            assert await volunteer_sign_in(first, creds, campaign, "wrong-guess") == 401
        assert await volunteer_sign_in(first, creds, campaign, creds["password"]) == 429
        assert await volunteer_sign_in(second, creds, campaign, creds["password"]) == 201
