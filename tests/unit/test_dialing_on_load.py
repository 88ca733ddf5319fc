"""A page opened or reloaded while dialing is held learns it from its first read (GET
/api/session, the WebSocket snapshot, the campaign's stats), not only from the next change."""

from __future__ import annotations

import pytest

from engine.app import Engine
from engine.calls.gate import TRUNK_DOWN, TRUNK_DOWN_MESSAGE
from tests.unit.fake_ari import FakeAri
from tests.unit.web_support import api_client, bearer, operator_token, running_engine, sign_in

HELD = {"paused": True, "message": TRUNK_DOWN_MESSAGE}
OPEN = {"paused": False, "message": ""}


@pytest.fixture
async def held_engine(fake_pbx: tuple[Engine, FakeAri]) -> Engine:
    """An engine on a fake ARI whose trunk watch holds dialing."""
    engine, _ = fake_pbx
    assert engine.telephony is not None
    engine.telephony.gate.hold(TRUNK_DOWN, TRUNK_DOWN_MESSAGE)
    return engine


async def test_a_volunteer_page_loaded_while_dialing_is_held_is_told_why(
    held_engine: Engine,
) -> None:
    campaign = await held_engine.operators.create_campaign("test", "Canvass")
    async with api_client(held_engine) as client:
        volunteer = await sign_in(client, campaign.id)
        view = await (await client.get("/api/session", headers=volunteer.headers)).json()
        assert view["dialing"] == HELD
        ws = await client.ws_connect(f"/api/session/events?token={volunteer.token}")
        snapshot = await ws.receive_json(timeout=5)
        await ws.close()
    assert snapshot["type"] == "snapshot"
    assert snapshot["dialing"] == HELD


async def test_the_dashboard_loaded_while_dialing_is_held_is_told_why(held_engine: Engine) -> None:
    campaign = await held_engine.operators.create_campaign("test", "Canvass")
    async with api_client(held_engine) as client:
        token = await operator_token(held_engine, client)
        path = f"/api/operator/campaigns/{campaign.id}"
        stats = await (await client.get(path + "/stats", headers=bearer(token))).json()
        assert stats["dialing"] == HELD
        ws = await client.ws_connect(f"{path}/events?token={token}")
        snapshot = await ws.receive_json(timeout=5)
        await ws.close()
    assert snapshot["dialing"] == HELD


async def test_dialing_reads_open_once_released_and_without_a_pbx(held_engine: Engine) -> None:
    assert held_engine.telephony is not None
    held_engine.telephony.gate.release(TRUNK_DOWN)
    campaign = await held_engine.operators.create_campaign("test", "Canvass")
    async with api_client(held_engine) as client:
        volunteer = await sign_in(client, campaign.id)
        view = await (await client.get("/api/session", headers=volunteer.headers)).json()
    assert view["dialing"] == OPEN
    async with running_engine() as engine:
        campaign = await engine.operators.create_campaign("test", "Canvass")
        assert (await engine.operators.stats(campaign.id))["dialing"] == OPEN
