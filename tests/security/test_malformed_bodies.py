"""Malformed request bodies answer 400 with one sentence, never a 500: invalid UTF-8,
JSON nested too deeply, lone surrogates and JSON that is not an object, sent to every
POST/PUT/PATCH/DELETE route of the API (and undecodable forms to every page form)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from engine.app import Engine
from tests.unit.test_operator_pages import log_in, page_token
from tests.unit.web_support import OPERATOR, bearer, sign_in

BODIES = {
    "invalid UTF-8": b'{"name": "Ada \xff\xfe", "term_code": "\xc3"}',
    "deeply nested": b'{"answers": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "nested past the limit": b'{"answers": ' + b'{"a": ' * 200 + b"1" + b"}" * 200 + b"}",
    "lone surrogate": (
        b'{"name": "\\ud800", "email": "a\\udfff@example.org", "phone": "555", '
        b'"username": "\\ud83d", "password": "x", "term_code": "\\udc00", "script": "\\ud800", '
        b'"login_id": "\\ud800", "campaign": "\\ud800", "phone_number": "\\ud800"}'
    ),
    "an array": b"[1, 2, 3]",
    "a string": b'"hello"',
    "null": b"null",
}

JSON_ROUTES = {
    ("POST", "/api/signup"),
    ("POST", "/api/signin"),
    ("POST", "/api/session/result"),
    ("PUT", "/api/session/result"),
    ("PUT", "/api/session/result/draft"),
    ("POST", "/api/operator/login"),
    ("POST", "/api/operator/campaigns"),
    ("PATCH", "/api/operator/campaigns/{id}"),
    ("POST", "/api/operator/dnc"),
    ("DELETE", "/api/operator/dnc"),
}
"""Routes whose body is a JSON object: every malformed body is a 400 bad_json."""

OTHER_ROUTES = {
    ("POST", "/api/session/ready"),
    ("POST", "/api/session/pause"),
    ("POST", "/api/session/end-call"),
    ("POST", "/api/session/call"),
    ("POST", "/api/session/skip"),
    ("POST", "/api/session/cancel-call"),
    ("POST", "/api/session/logout"),
    ("POST", "/api/operator/logout"),
    ("POST", "/api/operator/campaigns/{id}/voters"),
    ("POST", "/api/operator/dnc/numbers"),
}
"""Routes that take no JSON (the body is ignored, or is a CSV upload): never a 500."""

WRITES = ("POST", "PUT", "PATCH", "DELETE")
FORM = "application/x-www-form-urlencoded"

pytestmark = pytest.mark.usefixtures("operator")


def _api_routes(app: web.Application) -> set[tuple[str, str]]:
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method in WRITES
        and route.resource is not None
        and route.resource.canonical.startswith("/api/")
    }


def _page_routes(app: web.Application) -> list[tuple[str, str]]:
    return sorted(
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method in WRITES
        and route.resource is not None
        and not route.resource.canonical.startswith("/api/")
    )


async def test_every_write_route_of_the_api_is_covered(client: TestClient[Any, Any]) -> None:
    assert _api_routes(client.app) == JSON_ROUTES | OTHER_ROUTES


def _assert_one_sentence(error: dict[str, Any], what: str) -> None:
    message = error["message"]
    assert "Traceback" not in message and "\n" not in message, what
    assert 10 < len(message) < 200, f"{what}: {message!r}"


@pytest.mark.parametrize(("method", "route"), sorted(JSON_ROUTES | OTHER_ROUTES))
async def test_malformed_bodies_answer_400_not_500(
    engine: Engine, client: TestClient[Any, Any], method: str, route: str
) -> None:
    campaign = await engine.operators.create_campaign("test", "Canvass")
    volunteer = await sign_in(client, campaign.id)
    login = await client.post(
        "/api/operator/login", json={"username": OPERATOR[0], "password": OPERATOR[1]}
    )
    operator = (await login.json())["token"]
    headers = {"Content-Type": "application/json"}
    if route.startswith("/api/session"):
        headers |= volunteer.headers
    elif route.startswith("/api/operator/") and route != "/api/operator/login":
        headers |= bearer(operator)
    path = route.replace("{id}", str(campaign.id))
    for name, body in BODIES.items():
        what = f"{method} {path} with {name}"
        response = await client.request(method, path, data=body, headers=headers)
        assert response.status < 500, f"{what}: {response.status} {await response.text()}"
        if (method, route) in JSON_ROUTES:
            assert response.status == 400, f"{what}: {response.status} {await response.text()}"
            error = (await response.json())["error"]
            assert error["code"] == "bad_json", f"{what}: {error}"
            _assert_one_sentence(error, what)
        elif response.status == 400:
            _assert_one_sentence((await response.json())["error"], what)


async def test_undecodable_forms_to_every_page_form_are_not_a_500(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    campaign = await engine.operators.create_campaign("test", "Canvass")
    await log_in(client)
    token = await page_token(client)
    routes = _page_routes(client.app)
    assert len(routes) >= 8, routes
    for method, route in routes:
        path = route.replace("{id}", str(campaign.id))
        for body in (b"csrf_token=" + token.encode() + b"&name=\xff\xfe", b"a=%ED%A0%80"):
            response = await client.request(
                method,
                path,
                data=body,
                headers={"Content-Type": FORM, "X-CSRF-Token": token},
            )
            what = f"{method} {path} with {body!r}"
            assert response.status < 500, f"{what}: {response.status} {await response.text()}"
