"""Security of the minted TURN credentials (web/volunteer/api.py get_session): only the
session's own token holder gets them, every session gets its own, and the ICE transport policy
goes with them. The engine runs on the fake ARI, so browser sign-ins get softphones."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from engine.app import Engine
from engine.config import load_config
from engine.security.turn_credentials import turn_password
from tests.unit.fake_ari import FakeAri
from tests.unit.web_support import bearer
from web.app import create_app

SECRET = "coturn-shared-secret"
URLS = "turn:dial.example.org:3478?transport=udp,turn:dial.example.org:3478?transport=tcp"


@pytest.fixture
def environ() -> dict[str, str]:
    return {
        "PHONEBANK_TURN_URLS": URLS,
        "PHONEBANK_TURN_SECRET": SECRET,
        "PHONEBANK_TURN_TTL_SECONDS": "600",
        "PHONEBANK_WEB_ICE_SERVERS": '[{"urls": "stun:dial.example.org:3478"}]',
        "PHONEBANK_WEB_ICE_TRANSPORT_POLICY": "relay",
    }


@pytest.fixture
async def browser_client(
    fake_pbx: tuple[Engine, FakeAri], environ: dict[str, str]
) -> AsyncIterator[TestClient[Any, Any]]:
    engine, _ = fake_pbx
    await engine.operators.create_campaign("test", "Spring Canvass")
    app = create_app(engine, load_config(environ=environ).web)
    async with TestClient(TestServer(app)) as client:
        yield client


async def sign_in(client: TestClient[Any, Any], audio_mode: str = "browser") -> str:
    signup = await (
        await client.post(
            "/api/signup", json={"name": "Ada", "email": "a@example.org", "phone": "1"}
        )
    ).json()
    signin = await client.post(
        "/api/signin",
        json={
            "login_id": signup["login_id"],
            "password": signup["password"],
            "campaign": "Spring Canvass",
            "audio_mode": audio_mode,
        },
    )
    assert signin.status == 201, await signin.text()
    return str((await signin.json())["token"])


async def softphone_of(client: TestClient[Any, Any], token: str) -> dict[str, Any]:
    response = await client.get("/api/session", headers=bearer(token))
    assert response.status == 200, await response.text()
    softphone: dict[str, Any] = (await response.json())["softphone"]
    return softphone


async def test_the_session_view_carries_stun_and_credentials_minted_for_that_session(
    browser_client: TestClient[Any, Any],
) -> None:
    softphone = await softphone_of(browser_client, await sign_in(browser_client))
    assert softphone["ice_transport_policy"] == "relay"
    stun, turn = softphone["ice_servers"]
    assert stun == {"urls": "stun:dial.example.org:3478"}
    assert turn["urls"] == URLS.split(",")
    expiry, _, who = turn["username"].partition(":")
    assert who.startswith("pb-") and int(expiry) > 0
    assert turn["credential"] == turn_password(SECRET, turn["username"])


async def test_each_session_gets_its_own_username_and_credential(
    browser_client: TestClient[Any, Any],
) -> None:
    first = (await softphone_of(browser_client, await sign_in(browser_client)))["ice_servers"][1]
    second = (await softphone_of(browser_client, await sign_in(browser_client)))["ice_servers"][1]
    assert first["username"].split(":")[1] != second["username"].split(":")[1]
    assert first["credential"] != second["credential"]


async def test_anonymous_requests_get_no_credentials(browser_client: TestClient[Any, Any]) -> None:
    await sign_in(browser_client)
    response = await browser_client.get("/api/session")
    assert response.status == 401
    assert "credential" not in await response.text()
    response = await browser_client.get("/api/session", headers=bearer("not-a-token"))
    assert response.status == 401
    assert "credential" not in await response.text()


async def test_another_session_never_sees_this_sessions_credentials(
    browser_client: TestClient[Any, Any],
) -> None:
    mine = await softphone_of(browser_client, await sign_in(browser_client))
    other_token = await sign_in(browser_client, audio_mode="phone")
    other = await (await browser_client.get("/api/session", headers=bearer(other_token))).text()
    assert other != "" and mine["ice_servers"][1]["username"] not in other
    assert mine["ice_servers"][1]["credential"] not in other
    assert '"softphone": null' in other or '"softphone":null' in other
