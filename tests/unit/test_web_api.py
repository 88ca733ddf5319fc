"""The volunteer's JSON API, its errors and the session's WebSocket."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

from engine.app import Engine
from engine.config import WebConfig
from engine.errors import AriUnavailable
from engine.models import Campaign
from tests.unit.web_support import (
    add_voters,
    bearer,
    in_wrap_up,
    operator_token,
    sign_in,
)
from web.app import create_app
from web.routes import setup_routes

ANONYMOUS = {
    ("GET", "/api/health"),
    ("POST", "/api/signup"),
    ("POST", "/api/signin"),
    ("GET", "/api/campaigns"),
    ("POST", "/api/operator/login"),
}


def _routes() -> list[tuple[str, str]]:
    """Every route of the JSON API and its WebSockets (all under /api/)."""
    app = web.Application()
    setup_routes(app)
    return [
        (route.method, route.resource.canonical.replace("{id}", "1"))
        for route in app.router.routes()
        if route.method != "HEAD"
        and route.resource is not None
        and route.resource.canonical.startswith("/api/")
    ]


PROTECTED = [route for route in _routes() if route not in ANONYMOUS]


async def test_health_is_open_to_anyone(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/health")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "ari": "not used"}  # no PBX attached


async def test_sign_up_sign_in_and_the_session_view(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await sign_in(client, "spring canvass")
    response = await client.get("/api/session", headers=volunteer.headers)
    assert response.status == 200
    view = await response.json()
    assert view["session_id"] == volunteer.session_id
    assert view["state"] == "waiting for phone"
    assert view["pin"] == volunteer.pin
    assert view["campaign"]["name"] == "Spring Canvass"


async def test_sign_in_answers_token_pin_and_instructions(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    signup = await (
        await client.post(
            "/api/signup", json={"name": "Bo", "email": "bo@example.org", "phone": "5550101"}
        )
    ).json()
    assert set(signup) == {"login_id", "password", "note"}
    response = await client.post(
        "/api/signin",
        json={
            "login_id": signup["login_id"],
            "password": signup["password"],
            "campaign": campaign.id,
            "audio_mode": "phone",
        },
    )
    assert response.status == 201
    data = await response.json()
    assert {"token", "session_id", "pin", "callin_number", "instructions"} <= set(data)
    assert data["pin"] in data["instructions"]
    assert data["callin_number"] in data["instructions"]


async def test_wrong_password_is_401_with_the_domain_message(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    signup = await (
        await client.post(
            "/api/signup", json={"name": "Cy", "email": "cy@example.org", "phone": "5550102"}
        )
    ).json()
    response = await client.post(
        "/api/signin",
        json={"login_id": signup["login_id"], "password": "not-the-one", "campaign": campaign.id},
    )
    assert response.status == 401
    error = (await response.json())["error"]
    assert error["code"] == "login_failed"
    assert "Login ID and password do not match" in error["message"]


async def test_repeated_failed_sign_ins_are_429_with_retry_after(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    attempt = {"login_id": "NOSUCHID", "password": "abc-def-ghj", "campaign": campaign.id}
    for _ in range(5):
        assert (await client.post("/api/signin", json=attempt)).status == 401
    response = await client.post("/api/signin", json=attempt)
    assert response.status == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 300
    error = (await response.json())["error"]
    assert error["code"] == "rate_limited"
    assert "Try again in" in error["message"]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_every_other_route_needs_a_token(
    client: TestClient[Any, Any], method: str, path: str
) -> None:
    response = await client.request(method, path)
    assert response.status == 401, (method, path)
    assert (await response.json())["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_made_up_token_is_401(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/session", headers=bearer("made-up"))
    assert response.status == 401
    assert "sign in again" in (await response.json())["error"]["message"]


async def test_a_volunteer_token_is_refused_on_operator_routes(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await sign_in(client, campaign.id)
    response = await client.get("/api/operator/campaigns", headers=volunteer.headers)
    assert response.status == 401


async def test_an_operator_token_is_refused_on_volunteer_routes(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    token = await operator_token(engine, client)
    response = await client.get("/api/session", headers=bearer(token))
    assert response.status == 401


async def test_invalid_json_is_400_bad_json_saying_where(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        "/api/signup", data='{"name": "Ada",', headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == "bad_json"
    assert "line 1 column" in error["message"]


async def test_a_body_that_is_not_an_object_is_bad_json(client: TestClient[Any, Any]) -> None:
    response = await client.post("/api/signup", json=["Ada"])
    assert response.status == 400
    assert (await response.json())["error"]["message"].endswith("not an array")


async def test_a_missing_field_is_400_naming_it(client: TestClient[Any, Any]) -> None:
    response = await client.post("/api/signup", json={"name": "Ada", "phone": "5550100"})
    assert response.status == 400
    error = (await response.json())["error"]
    assert error == {"code": "invalid_input", "message": "'email' is required", "field": "email"}


async def test_a_field_of_the_wrong_type_is_400_naming_it(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        "/api/signup", json={"name": "Ada", "email": 7, "phone": "5550100"}
    )
    assert (await response.json())["error"]["message"] == "'email' must be a string, not a number"


async def test_an_unknown_campaign_at_sign_in_is_404_listing_the_campaigns(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    signup = await (
        await client.post(
            "/api/signup", json={"name": "Di", "email": "di@example.org", "phone": "5550103"}
        )
    ).json()
    response = await client.post(
        "/api/signin",
        json={
            "login_id": signup["login_id"],
            "password": signup["password"],
            "campaign": "Autumn Drive",
        },
    )
    assert response.status == 404
    error = (await response.json())["error"]
    assert error["code"] == "not_found"
    assert "Autumn Drive" in error["message"]
    assert "Spring Canvass" in error["message"]


async def test_the_campaign_list_is_public_and_shows_only_id_and_name(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    await engine.operators.create_campaign("test", "Retired", active=False)
    response = await client.get("/api/campaigns")
    assert await response.json() == {"campaigns": [{"id": campaign.id, "name": "Spring Canvass"}]}


async def test_an_unknown_route_is_a_json_404(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/no-such-thing")
    assert response.status == 404
    error = (await response.json())["error"]
    assert error["code"] == "not_found"
    assert "/api/no-such-thing" in error["message"]


async def test_a_wrong_method_is_a_json_405_saying_which_are_allowed(
    client: TestClient[Any, Any],
) -> None:
    response = await client.delete("/api/signup")
    assert response.status == 405
    assert "POST" in (await response.json())["error"]["message"]
    assert "POST" in response.headers["Allow"]


async def test_ready_before_the_phone_is_connected_is_409_saying_how(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await sign_in(client, campaign.id)
    response = await client.post("/api/session/ready", headers=volunteer.headers)
    assert response.status == 409
    error = (await response.json())["error"]
    assert error["code"] == "not_allowed"
    assert volunteer.pin in error["message"]


async def test_ready_and_pause_answer_the_new_view(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await sign_in(client, campaign.id)
    session = await engine.store.get_session(volunteer.session_id)
    await engine.sessions.phone_connected(session, "phone-1", "bridge-1")
    ready = await client.post("/api/session/ready", headers=volunteer.headers)
    assert (await ready.json())["state"] == "ready"
    paused = await client.post("/api/session/pause", headers=volunteer.headers)
    assert (await paused.json())["state"] == "paused"
    again = await client.post("/api/session/pause", headers=volunteer.headers)
    assert again.status == 200, "a double click on pause is not an error"
    assert (await again.json())["state"] == "paused"


async def test_a_result_in_wrap_up_saves_and_takes_the_next_call(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    await _voters(engine, campaign)
    volunteer = await sign_in(client, campaign.id)
    await in_wrap_up(engine, campaign, volunteer.session_id)
    response = await client.post(
        "/api/session/result",
        headers=volunteer.headers,
        json={"term_code": "talked", "answers": {"q1": "yes"}, "notes": " kind ", "then": "ready"},
    )
    assert response.status == 200, await response.text()
    result = await response.json()
    assert (result["term_code"], result["answers"], result["notes"]) == (
        "talked",
        {"q1": "yes"},
        "kind",
    )
    view = await (await client.get("/api/session", headers=volunteer.headers)).json()
    assert view["state"] == "ready"


async def test_an_unknown_term_code_is_400_listing_the_codes(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    await _voters(engine, campaign)
    volunteer = await sign_in(client, campaign.id)
    await in_wrap_up(engine, campaign, volunteer.session_id)
    response = await client.post(
        "/api/session/result", headers=volunteer.headers, json={"term_code": "maybe"}
    )
    assert response.status == 400
    assert "talked" in (await response.json())["error"]["message"]


async def test_a_saved_result_can_be_edited(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    await _voters(engine, campaign)
    volunteer = await sign_in(client, campaign.id)
    await in_wrap_up(engine, campaign, volunteer.session_id)
    early = await client.put(
        "/api/session/result", headers=volunteer.headers, json={"term_code": "talked"}
    )
    assert early.status == 409
    await client.post(
        "/api/session/result",
        headers=volunteer.headers,
        json={"term_code": "talked", "then": "pause"},
    )
    response = await client.put(
        "/api/session/result",
        headers=volunteer.headers,
        json={"term_code": "no_contact", "notes": "wrong person"},
    )
    assert response.status == 200
    assert (await response.json())["term_code"] == "no_contact"
    view = await (await client.get("/api/session", headers=volunteer.headers)).json()
    assert view["state"] == "paused"


async def test_a_draft_is_saved_as_typed_and_becomes_the_result_with_next(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    await _voters(engine, campaign)
    volunteer = await sign_in(client, campaign.id)
    session = await in_wrap_up(engine, campaign, volunteer.session_id)
    path, headers = "/api/session/result/draft", volunteer.headers
    missing = await client.put(path, headers=headers, json={"notes": "hi"})
    assert missing.status == 400
    assert (await missing.json())["error"]["field"] == "attempt_id"
    draft = await client.put(
        path, headers=headers, json={"attempt_id": session.attempt_id, "notes": " call back "}
    )
    assert draft.status == 200, await draft.text()
    body = await draft.json()
    assert (body["status"], body["term_code"], body["notes"]) == ("draft", "", "call back")
    view = await (await client.get("/api/session", headers=headers)).json()
    assert (view["state"], view["result"]["status"]) == ("wrap-up", "draft")
    earlier = await client.put(path, headers=headers, json={"attempt_id": 0, "notes": "x"})
    assert earlier.status == 409
    assert "an earlier call" in (await earlier.json())["error"]["message"]
    final = await client.post(
        "/api/session/result", headers=headers, json={"term_code": "talked", "then": "pause"}
    )
    assert (await final.json())["status"] == "final"
    late = await client.put(path, headers=headers, json={"attempt_id": session.attempt_id})
    assert late.status == 409  # the page's last draft, after Next: nothing changes
    kept = await engine.store.result_for_attempt(session.attempt_id or 0)
    assert kept is not None and (kept.term_code, kept.notes) == ("talked", "")


async def test_logout_answers_the_logged_out_view(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await sign_in(client, campaign.id)
    response = await client.post("/api/session/logout", headers=volunteer.headers)
    assert (await response.json())["state"] == "logged out"


async def test_session_events_start_with_a_snapshot_then_relay_events(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await sign_in(client, campaign.id)
    async with client.ws_connect(f"/api/session/events?token={volunteer.token}") as ws:
        snapshot = await ws.receive_json(timeout=5)
        assert snapshot["type"] == "snapshot"
        assert snapshot["state"] == "waiting for phone"
        session = await engine.store.get_session(volunteer.session_id)
        await engine.sessions.phone_connected(session, "phone-1", "bridge-1")
        event = await ws.receive_json(timeout=5)
        assert (event["type"], event["state"]) == ("session", "connected")
        await client.post("/api/session/ready", headers=volunteer.headers)
        assert (await ws.receive_json(timeout=5))["state"] == "ready"


async def test_the_session_socket_takes_the_header_too_and_closes_at_logout(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await sign_in(client, campaign.id)
    async with client.ws_connect("/api/session/events", headers=volunteer.headers) as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
        await client.post("/api/session/logout", headers=volunteer.headers)
        assert (await ws.receive_json(timeout=5))["state"] == "logged out"
        message = await ws.receive(timeout=5)
        assert message.type == WSMsgType.CLOSE


async def test_the_socket_of_an_ended_session_sends_the_snapshot_and_closes(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await sign_in(client, campaign.id)
    await client.post("/api/session/logout", headers=volunteer.headers)
    async with client.ws_connect(f"/api/session/events?token={volunteer.token}") as ws:
        snapshot = await ws.receive_json(timeout=5)
        assert (snapshot["state"], snapshot["end_reason"]) == ("logged out", "logout")
        assert (await ws.receive(timeout=5)).type == WSMsgType.CLOSE


async def test_the_session_socket_refuses_a_bad_token_before_upgrading(
    client: TestClient[Any, Any],
) -> None:
    response = await client.get("/api/session/events?token=made-up")
    assert response.status == 401


async def test_the_session_socket_answers_400_to_plain_http(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await sign_in(client, campaign.id)
    response = await client.get("/api/session/events", headers=volunteer.headers)
    assert response.status == 400
    assert "WebSocket" in (await response.json())["error"]["message"]


async def _voters(engine: Engine, campaign: Campaign) -> None:
    await add_voters(engine, campaign, "phone,first_name\n+12025550123,Ann\n")


async def test_an_unexpected_error_is_a_logged_500_with_a_generic_message(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret detail")

    app = create_app(engine, WebConfig())
    app.router.add_get("/api/boom", boom)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/api/boom")
        error = (await response.json())["error"]
    assert response.status == 500
    assert error["code"] == "internal"
    assert "secret detail" not in error["message"]
    assert "secret detail" in caplog.text


async def test_a_phone_system_failure_is_503(engine: Engine) -> None:
    async def unreachable(request: web.Request) -> web.Response:
        raise AriUnavailable("cannot reach ARI at http://127.0.0.1:8088")

    app = create_app(engine, WebConfig())
    app.router.add_post("/api/unreachable", unreachable)
    async with TestClient(TestServer(app)) as client:
        response = await client.post("/api/unreachable")
        error = (await response.json())["error"]
    assert (response.status, error["code"]) == (503, "telephony_unavailable")
    assert "127.0.0.1" not in error["message"]
