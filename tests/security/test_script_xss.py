"""Stored XSS through the campaign script: whatever markup an operator writes, the rendered
script keeps only formatting (engine/scripts/sanitize.py) wherever it is shown — the volunteer's
voter card and the operator's preview."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from engine.app import Engine
from engine.scripts.render import render_script
from tests.unit.test_operator_pages import log_in, page_token
from tests.unit.web_support import (
    add_voters,
    claim_one,
    sign_in,
)

ATTACK = (
    "<p>Hello <b>{{ first_name }}</b>, I'm <i>{{ volunteer }}</i>.</p>"
    "<img src=x onerror=alert(1)>"
    "<script>alert(2)</script>"
    '<p onclick="alert(3)" style="background:url(javascript:alert(4))">Ask:</p>'
    "<ul><li>Will you vote?</li></ul>"
    '<a href="https://example.org/polls">Find your polling place</a>'
    '<a href="javascript:alert(5)">click</a>'
    "<iframe src=https://evil.example></iframe><svg onload=alert(6)></svg>"
)

pytestmark = pytest.mark.usefixtures("operator")


def _assert_safe(html: str) -> None:
    lowered = html.lower()
    for bad in ("<img", "onerror", "<script", "alert(", "onclick", "style=", "javascript:"):
        assert bad not in lowered, f"{bad!r} survived in {html!r}"
    assert "<iframe" not in lowered and "<svg" not in lowered and "onload" not in lowered


def test_script_and_event_handlers_are_stripped_and_formatting_kept() -> None:
    html = render_script(ATTACK, {"first_name": "Ann"}, "Sam")
    _assert_safe(html)
    assert "<p>Hello <b>Ann</b>, I'm <i>Sam</i>.</p>" in html
    assert "<ul><li>Will you vote?</li></ul>" in html
    assert '<a href="https://example.org/polls"' in html
    assert 'rel="noopener noreferrer"' in html
    assert "Find your polling place</a>" in html


def test_a_voter_field_holding_markup_stays_text() -> None:
    html = render_script("<p>{{ first_name }}</p>", {"first_name": "<img src=x onerror=a()>"}, "S")
    assert html == "<p>&lt;img src=x onerror=a()&gt;</p>"


async def test_the_operator_preview_is_sanitized(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    await log_in(client)
    token = await page_token(client)
    response = await client.post(
        "/operator/script-preview", json={"script": ATTACK}, headers={"X-CSRF-Token": token}
    )
    assert response.status == 200
    _assert_safe((await response.json())["html"])


async def test_the_campaign_form_preview_is_sanitized(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    campaign = await engine.operators.create_campaign("test", "Canvass", script=ATTACK)
    await log_in(client)
    response = await client.get(f"/operator/campaigns/{campaign.id}")
    assert response.status == 200
    text = await response.text()
    preview = text.split('id="script-preview"', 1)[1].split("</div>", 1)[0]
    _assert_safe(preview)
    assert "<b>Pat</b>" in preview


async def test_the_volunteers_voter_card_is_sanitized(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    campaign = await engine.operators.create_campaign(
        "test", "Canvass", script=ATTACK, calling_hours_end="24:00"
    )
    await add_voters(engine, campaign, "phone,first_name,zip\n+12025550123,Ann,20001\n")
    volunteer = await sign_in(client, campaign.id)
    session = await engine.store.get_session(volunteer.session_id)
    session = await engine.sessions.phone_connected(session, "phone-1", "bridge-1")
    session = await engine.volunteers.start_calling(session.id)
    voter, attempt = await claim_one(engine, campaign)
    with engine.notifier.session_events(session.id) as queue:
        await engine.sessions.call_connected(session, attempt, voter, campaign)
        cards = []
        while not queue.empty():
            event = await asyncio.wait_for(queue.get(), 1)
            if event["type"] == "voter":
                cards.append(event)
    [card] = cards
    _assert_safe(card["script"])
    assert "<b>Ann</b>" in card["script"]
