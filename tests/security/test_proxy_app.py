"""Behind the TLS proxy (web.public_url set): HSTS on every response, Secure cookies, the
volunteer's forwarded address counted by the rate limits (only from trusted proxies), the
public origin accepted by the WebSockets, and the softphone on wss://<public host>/ws."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from engine.app import Engine, softphone_ws_url
from engine.config import WebConfig, load_config
from engine.models import Campaign
from engine.sessions.control import BrowserLogin
from tests.unit.web_support import OPERATOR, sign_in
from web.app import create_app
from web.auth import forwarded_client
from web.operator.auth import LOGIN_COOKIE
from web.security_headers import content_security_policy

PUBLIC = "https://dial.example.org:8443"
HSTS = "max-age=31536000"
LOOPBACK = [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128")]


def web_config(**values: str) -> WebConfig:
    env = {f"PHONEBANK_WEB_{key.upper()}": value for key, value in values.items()}
    return load_config(environ=env).web


@pytest.fixture
async def proxied(engine: Engine) -> AsyncIterator[TestClient[Any, Any]]:
    """The app as it runs behind the proxy; the test client's peer (127.0.0.1) is trusted."""
    async with TestClient(TestServer(create_app(engine, web_config(public_url=PUBLIC)))) as c:
        yield c


# --- X-Forwarded-For --------------------------------------------------------------------------


def test_the_right_most_untrusted_forwarded_address_is_the_client() -> None:
    assert forwarded_client("127.0.0.1", ["198.51.100.7"], LOOPBACK) == "198.51.100.7"
    # a client's own forged entries stand left of what the proxy appended
    assert forwarded_client("127.0.0.1", ["10.9.9.9, 198.51.100.7"], LOOPBACK) == "198.51.100.7"
    # proxies in a chain that are trusted are skipped
    chain = [ipaddress.ip_network("10.0.0.0/8"), *LOOPBACK]
    assert forwarded_client("127.0.0.1", ["203.0.113.5, 10.1.1.1"], chain) == "203.0.113.5"
    assert forwarded_client("127.0.0.1", ["203.0.113.5", "10.1.1.1"], chain) == "203.0.113.5"
    assert forwarded_client("::1", ["2001:db8::5"], LOOPBACK) == "2001:db8::5"


def test_a_forwarded_header_from_an_untrusted_peer_is_ignored() -> None:
    assert forwarded_client("198.51.100.7", ["10.0.0.1"], LOOPBACK) == "198.51.100.7"
    assert forwarded_client("198.51.100.7", ["10.0.0.1"], []) == "198.51.100.7"


def test_a_missing_garbled_or_all_trusted_header_leaves_the_peer() -> None:
    assert forwarded_client("127.0.0.1", [], LOOPBACK) == "127.0.0.1"
    assert forwarded_client("127.0.0.1", ["not-an-address"], LOOPBACK) == "127.0.0.1"
    assert forwarded_client("127.0.0.1", ["127.0.0.1"], LOOPBACK) == "127.0.0.1"


async def operator_login(client: TestClient[Any, Any], forwarded: str, password: str) -> int:
    response = await client.post(
        "/api/operator/login",
        json={"username": OPERATOR[0], "password": password},
        headers={"X-Forwarded-For": forwarded},
    )
    return response.status


async def test_behind_the_proxy_each_forwarded_address_is_limited_on_its_own(
    engine: Engine, proxied: TestClient[Any, Any]
) -> None:
    await engine.operators.add_operator(*OPERATOR)
    for _ in range(5):
        assert await operator_login(proxied, "198.51.100.7", "wrong password!") == 401
    assert await operator_login(proxied, "198.51.100.7", OPERATOR[1]) == 429
    assert await operator_login(proxied, "203.0.113.9", OPERATOR[1]) == 200


async def test_without_the_proxy_a_spoofed_forwarded_address_changes_nothing(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    await engine.operators.add_operator(*OPERATOR)
    for n in range(5):
        assert await operator_login(client, f"198.51.100.{n}", "wrong password!") == 401
    assert await operator_login(client, "203.0.113.9", OPERATOR[1]) == 429


async def test_an_untrusted_proxy_is_not_believed(engine: Engine) -> None:
    cfg = web_config(public_url=PUBLIC, trusted_proxies="10.0.0.0/8")
    await engine.operators.add_operator(*OPERATOR)
    async with TestClient(TestServer(create_app(engine, cfg))) as client:
        for n in range(5):
            assert await operator_login(client, f"198.51.100.{n}", "wrong password!") == 401
        assert await operator_login(client, "203.0.113.9", OPERATOR[1]) == 429


# --- HSTS, cookies, origins, softphone URL --------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/api/campaigns", "/static/phonebank.css", "/nowhere"])
async def test_every_response_carries_hsts_behind_the_proxy(
    proxied: TestClient[Any, Any], client: TestClient[Any, Any], path: str
) -> None:
    response = await proxied.get(path)
    assert response.headers["Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in (await client.get(path)).headers


async def test_cookies_are_secure_behind_the_proxy(proxied: TestClient[Any, Any]) -> None:
    form = await proxied.get("/operator/login")
    assert form.cookies[LOGIN_COOKIE]["secure"] is True


async def test_secure_cookies_stays_an_explicit_override(engine: Engine) -> None:
    cfg = dataclasses.replace(load_config(environ={}).web, secure_cookies=True)
    async with TestClient(TestServer(create_app(engine, cfg))) as client:
        assert (await client.get("/operator/login")).cookies[LOGIN_COOKIE]["secure"] is True


async def test_the_public_origin_may_open_the_event_socket(
    proxied: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await sign_in(proxied, campaign.id)
    path = f"/api/session/events?token={volunteer.token}"
    ws = await proxied.ws_connect(path, headers={"Origin": PUBLIC})
    assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
    await ws.close()
    for origin in ("https://dial.example.org:9999", "https://evil.example"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await proxied.ws_connect(path, headers={"Origin": origin})
        assert refused.value.status == 403


def test_the_softphone_uses_wss_on_the_public_host_and_csp_allows_it() -> None:
    url = softphone_ws_url("http://127.0.0.1:8088", PUBLIC)
    assert url == "wss://dial.example.org:8443/ws"
    assert softphone_ws_url("http://127.0.0.1:8088", "https://dial.example.org") == (
        "wss://dial.example.org/ws"
    )
    assert "connect-src 'self' wss://dial.example.org:8443;" in content_security_policy(url)
    login = BrowserLogin(1, "web-1-x", "pw", url)
    assert login.uri == "sip:join@dial.example.org"
    assert (
        BrowserLogin(1, "web-1-x", "pw", "wss://[2001:db8::1]/ws").uri == "sip:join@[2001:db8::1]"
    )
