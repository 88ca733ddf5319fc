"""The live-events WebSockets accept only this server's pages (Origin) and a bounded number
of sockets per credential."""

from __future__ import annotations

import contextlib
from typing import Any

import aiohttp
import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from engine.app import Engine
from engine.models import Campaign
from tests.unit.test_operator_pages import log_in
from tests.unit.web_support import OPERATOR, operator_token, sign_in
from web.socket_counts import SOCKETS_PER_OPERATOR, SOCKETS_PER_SESSION

EVIL = "https://evil.example"


def _own_origin(client: TestClient[Any, Any]) -> str:
    return f"http://{client.server.host}:{client.server.port}"


async def _refused(
    client: TestClient[Any, Any], path: str, origin: str | None, status: int
) -> None:
    headers = {"Origin": origin} if origin else {}
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect(path, headers=headers)
    assert refused.value.status == status


async def _snapshot(
    client: TestClient[Any, Any], path: str, origin: str | None
) -> ClientWebSocketResponse:
    headers = {"Origin": origin} if origin else {}
    ws = await client.ws_connect(path, headers=headers)
    first = await ws.receive_json(timeout=5)
    assert first["type"] == "snapshot"
    return ws


async def test_a_volunteer_socket_from_another_site_is_refused(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await sign_in(client, campaign.id)
    path = f"/api/session/events?token={volunteer.token}"
    await _refused(client, path, EVIL, 403)
    await _refused(client, path, "null", 403)
    response = await client.get(path, headers={"Origin": EVIL, "Upgrade": "websocket"})
    assert "only accepts pages of this server" in (await response.json())["error"]["message"]
    await (await _snapshot(client, path, _own_origin(client))).close()
    await (await _snapshot(client, path, None)).close()  # not a browser: API clients


async def test_an_operator_api_socket_from_another_site_is_refused(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    token = await operator_token(engine, client)
    path = f"/api/operator/campaigns/{campaign.id}/events?token={token}"
    await _refused(client, path, EVIL, 403)
    await (await _snapshot(client, path, _own_origin(client))).close()


async def test_the_operator_dashboard_socket_from_another_site_is_refused(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    """The page's socket is authenticated by cookie: the classic cross-site hijack."""
    await engine.operators.add_operator(*OPERATOR)
    await log_in(client)
    path = f"/operator/campaigns/{campaign.id}/events"
    await _refused(client, path, EVIL, 403)
    await _refused(client, path, f"http://{client.server.host}:1", 403)
    ws = await client.ws_connect(path, headers={"Origin": _own_origin(client)})
    await ws.close()


async def test_a_proxy_forwarded_host_is_accepted(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await sign_in(client, campaign.id)
    path = f"/api/session/events?token={volunteer.token}"
    ws = await client.ws_connect(
        path,
        headers={
            "Origin": "https://phonebank.example.org",
            "X-Forwarded-Host": "phonebank.example.org",
        },
    )
    await ws.close()


async def test_sockets_per_volunteer_session_are_limited(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await sign_in(client, campaign.id)
    path = f"/api/session/events?token={volunteer.token}"
    async with contextlib.AsyncExitStack() as stack:
        sockets = []
        for _ in range(SOCKETS_PER_SESSION):
            ws = await _snapshot(client, path, None)
            stack.push_async_callback(ws.close)
            sockets.append(ws)
        response = await client.get(path, headers={"Upgrade": "websocket", "Connection": "Upgrade"})
        assert response.status == 429
        message = (await response.json())["error"]["message"]
        assert message.startswith("too many live connections for this sign-in: at most 5")
        other = await sign_in(client, campaign.id)
        await (await _snapshot(client, f"/api/session/events?token={other.token}", None)).close()
        await sockets[0].close()
        await (await _snapshot(client, path, None)).close()  # room again once one closed


async def test_sockets_per_operator_are_limited_across_api_and_pages(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    token = await operator_token(engine, client)
    await log_in(client)
    api_path = f"/api/operator/campaigns/{campaign.id}/events?token={token}"
    page_path = f"/operator/campaigns/{campaign.id}/events"
    async with contextlib.AsyncExitStack() as stack:
        for n in range(SOCKETS_PER_OPERATOR):
            ws = await client.ws_connect(api_path if n % 2 else page_path)
            stack.push_async_callback(ws.close)
        await _refused(client, api_path, None, 429)
        await _refused(client, page_path, None, 429)
