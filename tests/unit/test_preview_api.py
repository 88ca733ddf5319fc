"""The preview routes of the volunteer API: each refuses, with a sentence the volunteer can
act on, when the session is not where the button makes sense."""

from __future__ import annotations

import io
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from engine.app import Engine
from engine.models import Campaign
from tests.unit.web_support import Volunteer, claim_one, sign_in


@pytest.fixture
async def campaign(engine: Engine) -> Campaign:
    return await engine.operators.create_campaign(
        "test", "Preview", dial_mode="preview", calling_hours_end="24:00"
    )


async def ready_volunteer(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> Volunteer:
    volunteer = await sign_in(client, campaign.id)
    session = await engine.store.get_session(volunteer.session_id)
    await engine.sessions.phone_connected(session, "phone-1", "bridge-1")
    await engine.volunteers.start_calling(volunteer.session_id)
    return volunteer


async def refused(client: TestClient[Any, Any], volunteer: Volunteer, path: str) -> str:
    response = await client.post(path, headers=volunteer.headers)
    assert response.status == 409, await response.text()
    error = (await response.json())["error"]
    assert error["code"] == "not_allowed"
    return str(error["message"])


async def test_call_before_the_phone_is_connected_says_how_to_get_a_card(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await sign_in(client, campaign.id)
    message = await refused(client, volunteer, "/api/session/call")
    assert message.startswith("there is no voter to call")
    assert "Start calling" in message


async def test_call_while_ready_says_the_card_is_coming(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await ready_volunteer(engine, client, campaign)
    message = await refused(client, volunteer, "/api/session/call")
    assert message == "there is no voter to call yet: the next voter's card is on its way"


async def test_skip_without_a_card_is_refused(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await ready_volunteer(engine, client, campaign)
    assert await refused(client, volunteer, "/api/session/skip") == "there is no voter to skip"


async def test_cancel_without_a_ringing_call_is_refused(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await ready_volunteer(engine, client, campaign)
    message = await refused(client, volunteer, "/api/session/cancel-call")
    assert message == "there is no ringing call to cancel"


async def test_call_without_a_phone_system_says_so(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    await engine.operators.import_list(
        "test", campaign.id, io.BytesIO(b"phone,zip\n+12025550101,20001\n")
    )
    volunteer = await ready_volunteer(engine, client, campaign)
    session = await engine.store.get_session(volunteer.session_id)
    voter, attempt = await claim_one(engine, campaign)
    await engine.sessions.preview_offered(session, attempt, voter, campaign)
    view = await (await client.get("/api/session", headers=volunteer.headers)).json()
    assert view["state"] == "previewing"
    assert view["call"]["voter"]["phone"] == "+12025550101"
    assert view["campaign"]["dial_mode"] == "preview"
    message = await refused(client, volunteer, "/api/session/call")
    assert message == "calls cannot be placed now: the phone system is not running"


async def test_the_routes_need_a_volunteer_token(client: TestClient[Any, Any]) -> None:
    for path in ("/api/session/call", "/api/session/skip", "/api/session/cancel-call"):
        response = await client.post(path)
        assert response.status == 401
