"""An operator's live-events sockets end with their credential: logout (API token or page
session) closes them at once, and removing the operator (`phonebank operator remove`, from
another process) closes them at their next check."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import ClientWebSocketResponse, WSCloseCode
from aiohttp.test_utils import TestClient

from engine.app import Engine
from engine.models import Campaign
from tests.unit.test_operator_pages import log_in, page_token
from tests.unit.web_support import OPERATOR, bearer, operator_token
from web import operator_sockets


async def _closed(ws: ClientWebSocketResponse) -> tuple[int | None, str]:
    """Read until the server closes the socket; its close code and reason."""
    while True:
        message = await ws.receive(timeout=5)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return ws.close_code, str(message.extra or "")


async def test_an_api_logout_closes_that_tokens_sockets_at_once(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    token = await operator_token(engine, client)
    login = await client.post(
        "/api/operator/login", json={"username": OPERATOR[0], "password": OPERATOR[1]}
    )
    other = (await login.json())["token"]
    path = f"/api/operator/campaigns/{campaign.id}/events?token="
    ws = await client.ws_connect(path + token)
    kept = await client.ws_connect(path + other)
    assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
    assert (await kept.receive_json(timeout=5))["type"] == "snapshot"
    response = await client.post("/api/operator/logout", headers=bearer(token))
    assert response.status == 200
    code, reason = await _closed(ws)
    assert code == WSCloseCode.POLICY_VIOLATION and "logged out" in reason
    assert not kept.closed, "another token's socket was closed"
    await kept.close()


async def test_a_page_logout_closes_the_pages_sockets_at_once(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    await engine.operators.add_operator(*OPERATOR)
    await log_in(client)
    ws = await client.ws_connect(f"/operator/campaigns/{campaign.id}/events")
    csrf = await page_token(client)
    response = await client.post(
        "/operator/logout", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert response.status == 303
    code, reason = await _closed(ws)
    assert code == WSCloseCode.POLICY_VIOLATION and "logged out" in reason


async def test_removing_the_operator_closes_their_sockets(
    engine: Engine,
    client: TestClient[Any, Any],
    campaign: Campaign,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(operator_sockets, "CHECK_SECONDS", 0.05)
    token = await operator_token(engine, client)
    await log_in(client)
    api = await client.ws_connect(f"/api/operator/campaigns/{campaign.id}/events?token={token}")
    page = await client.ws_connect(f"/operator/campaigns/{campaign.id}/events")
    # as `phonebank operator remove` does it, from another process: the web app is not told
    await engine.store.remove_operator(OPERATOR[0])
    for ws in (api, page):
        code, reason = await _closed(ws)
        assert code == WSCloseCode.POLICY_VIOLATION and "no longer valid" in reason
