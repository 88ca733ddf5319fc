"""Every response carries the security headers: each GET route of the app (pages, JSON,
CSV, WebSocket endpoints asked over plain HTTP), static files, redirects and errors."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from engine.app import Engine, softphone_ws_url
from tests.unit.test_operator_pages import log_in
from web.security_headers import content_security_policy

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
REQUIRED_DIRECTIVES = (
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
)

pytestmark = pytest.mark.usefixtures("operator")


def _assert_headers(response: ClientResponse, what: str) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, f"{what}: {name}"
    policy = response.headers.get("Content-Security-Policy", "")
    for directive in REQUIRED_DIRECTIVES:
        assert directive in policy, f"{what}: {directive!r} missing from {policy!r}"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def _get_paths(app: web.Application, campaign_id: int) -> list[str]:
    paths = set()
    for route in app.router.routes():
        if route.method != "GET" or route.resource is None:
            continue
        path = route.resource.canonical
        if path == "/static":
            continue
        path = path.replace("{id}", str(campaign_id)).replace("{key}", "nope")
        assert "{" not in path, path
        paths.add(path)
    return sorted(paths)


async def test_every_get_route_answers_with_the_security_headers(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    campaign = await engine.operators.create_campaign("test", "Canvass")
    anonymous = {}
    for path in _get_paths(client.app, campaign.id):
        response = await client.get(path, allow_redirects=False)
        anonymous[path] = response.status
        _assert_headers(response, f"anonymous GET {path} ({response.status})")
    await log_in(client)
    for path in _get_paths(client.app, campaign.id):
        response = await client.get(path, allow_redirects=False)
        _assert_headers(response, f"operator GET {path} ({response.status})")
    assert len(anonymous) > 20, anonymous
    assert anonymous["/operator"] in (302, 303), "a redirect was checked too"
    assert anonymous["/api/session"] == 401, "an error was checked too"


async def test_static_files_errors_and_posts_carry_the_headers(
    client: TestClient[Any, Any],
) -> None:
    page = await client.get("/signin")
    script = re.search(r'src="(/static/volunteer\.js[^"]*)"', await page.text())
    assert script, "the sign-in page loads volunteer.js"
    _assert_headers(await client.get(script.group(1)), "a static file")
    _assert_headers(await client.get("/no/such/page"), "an HTML 404")
    _assert_headers(await client.get("/api/no/such/route"), "a JSON 404")
    _assert_headers(await client.post("/api/signup", data=b"{"), "a 400 on a POST")
    _assert_headers(await client.delete("/api/health"), "a 405")


def test_the_softphone_websocket_is_the_only_other_place_pages_may_connect_to() -> None:
    url = softphone_ws_url("http://127.0.0.1:8123")
    policy = content_security_policy(url)
    assert "connect-src 'self' ws://127.0.0.1:8123;" in policy
    assert "connect-src 'self';" in content_security_policy(None)
    assert "wss://pbx.example.org:8089" in content_security_policy(
        softphone_ws_url("https://pbx.example.org:8089")
    )


async def test_no_page_has_inline_script_or_inline_handlers(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    """What the policy forbids must not be in the templates either (it would break)."""
    campaign = await engine.operators.create_campaign("test", "Canvass")
    await log_in(client)
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=|\sstyle=|javascript:", re.I)
    for path in _get_paths(client.app, campaign.id):
        response = await client.get(path)
        if response.content_type != "text/html":
            continue
        text = await response.text()
        assert not inline.search(text), f"{path}: {inline.search(text)}"
