"""The volunteer's page shells: served as HTML, escaped, and an HTML 404 outside /api/."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from engine.app import Engine


async def test_the_front_page_links_each_active_campaign_to_its_team_page(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    campaign = await engine.operators.create_campaign("test", "Spring <Canvass>")
    await engine.operators.create_campaign("test", "Retired", active=False)
    response = await client.get("/")
    html = await response.text()
    assert response.status == 200
    assert response.content_type == "text/html"
    assert f'href="/join/{campaign.id}">Spring &lt;Canvass&gt;</a>' in html
    assert "Retired" not in html


async def test_a_team_page_asks_for_name_email_and_phone(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    campaign = await engine.operators.create_campaign("test", "Spring Canvass")
    html = await (await client.get(f"/join/{campaign.id}")).text()
    for label in ("Your name", "Email", "Phone number", "Get your login"):
        assert label in html


async def test_the_sign_in_page_preselects_the_campaign_of_the_team_link(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    await engine.operators.create_campaign("test", "First")
    second = await engine.operators.create_campaign("test", "Second")
    html = await (await client.get(f"/signin?campaign={second.id}")).text()
    assert f'<option value="{second.id}" selected>Second</option>' in html


@pytest.mark.parametrize("path", ["/session", "/logged-out"])
async def test_the_shift_pages_are_served(client: TestClient[Any, Any], path: str) -> None:
    response = await client.get(path)
    assert response.status == 200
    assert "volunteer.js" in await response.text()


async def test_an_unknown_team_link_is_an_html_404(client: TestClient[Any, Any]) -> None:
    response = await client.get("/join/999")
    assert response.status == 404
    assert "Page not found" in await response.text()


async def test_an_unknown_page_is_an_html_404_but_the_api_still_answers_json(
    client: TestClient[Any, Any],
) -> None:
    page = await client.get("/no/such/<page>")
    assert page.status == 404
    assert page.content_type == "text/html"
    assert "&lt;page&gt;" in await page.text()
    api = await client.get("/api/no-such-thing")
    assert (await api.json())["error"]["code"] == "not_found"
