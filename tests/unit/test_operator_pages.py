"""The operator's HTML pages: cookie sessions, CSRF, access control, login rate limiting,
script safety and escaping."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from aiohttp import ClientResponse, FormData
from aiohttp.test_utils import TestClient, TestServer

from engine.app import Engine
from engine.config import load_config
from engine.models import Campaign
from tests.unit.web_support import (
    OPERATOR,
    add_voters,
    bearer,
    in_wrap_up,
    sign_in,
)
from web.app import create_app
from web.operator.auth import ABSOLUTE_SECONDS, COOKIE, IDLE_SECONDS, LOGIN_COOKIE, SESSIONS

XSS = "<script>alert(1)</script>"

pytestmark = pytest.mark.usefixtures("operator")


def hidden_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


async def log_in(client: TestClient[Any, Any], password: str = OPERATOR[1]) -> ClientResponse:
    form = await client.get("/operator/login")
    token = hidden_token(await form.text())
    return await client.post(
        "/operator/login",
        data={"csrf_token": token, "username": OPERATOR[0], "password": password},
        allow_redirects=False,
    )


async def page_token(client: TestClient[Any, Any], path: str = "/operator") -> str:
    response = await client.get(path)
    assert response.status == 200
    return hidden_token(await response.text())


async def test_login_sets_an_httponly_samesite_cookie(client: TestClient[Any, Any]) -> None:
    response = await log_in(client)
    assert response.status == 303
    assert response.headers["Location"] == "/operator"
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/operator"
    assert not cookie["secure"]  # web.secure_cookies is off by default
    assert (await client.get("/operator")).status == 200


async def test_cookies_are_secure_when_the_site_is_served_over_https(engine: Engine) -> None:
    cfg = load_config(environ={}).web
    app = create_app(engine, dataclasses.replace(cfg, secure_cookies=True))
    async with TestClient(TestServer(app)) as client:
        form = await client.get("/operator/login")
        login_cookie = form.cookies[LOGIN_COOKIE]
        assert login_cookie["secure"] is True
        # A Secure cookie is not sent back over plain HTTP: send it by hand.
        response = await client.post(
            "/operator/login",
            data={
                "csrf_token": hidden_token(await form.text()),
                "username": OPERATOR[0],
                "password": OPERATOR[1],
            },
            headers={"Cookie": f"{LOGIN_COOKIE}={login_cookie.value}"},
            allow_redirects=False,
        )
        assert response.status == 303
        assert response.cookies[COOKIE]["secure"] is True


async def test_a_session_expires_after_an_idle_hour(client: TestClient[Any, Any]) -> None:
    await log_in(client)
    sessions = client.app[SESSIONS]
    now = [1_000_000.0]
    sessions.clock = lambda: now[0]
    for session in sessions.sessions.values():
        session.started = session.last_seen = now[0]
    now[0] += IDLE_SECONDS - 10
    assert (await client.get("/operator", allow_redirects=False)).status == 200
    now[0] += IDLE_SECONDS + 1
    response = await client.get("/operator", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/operator/login")


async def test_a_session_ends_after_eight_hours_even_when_busy(
    client: TestClient[Any, Any],
) -> None:
    await log_in(client)
    sessions = client.app[SESSIONS]
    now = [1_000_000.0]
    sessions.clock = lambda: now[0]
    for session in sessions.sessions.values():
        session.started = session.last_seen = now[0]
    while now[0] < 1_000_000 + ABSOLUTE_SECONDS - 1800:
        now[0] += 1800
        assert (await client.get("/operator", allow_redirects=False)).status == 200
    now[0] += 1801
    assert (await client.get("/operator", allow_redirects=False)).status == 303


async def test_logout_ends_the_session(client: TestClient[Any, Any]) -> None:
    await log_in(client)
    token = await page_token(client)
    response = await client.post(
        "/operator/logout", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303
    assert (await client.get("/operator", allow_redirects=False)).status == 303


async def test_a_form_without_its_csrf_token_is_refused(client: TestClient[Any, Any]) -> None:
    await log_in(client)
    response = await client.post("/operator/campaigns/new", data={"name": "Sneaky"})
    assert response.status == 403
    assert "security token" in await response.text()
    wrong = await client.post(
        "/operator/campaigns/new", data={"name": "Sneaky", "csrf_token": "forged"}
    )
    assert wrong.status == 403


async def test_the_login_form_needs_its_csrf_token_too(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        "/operator/login", data={"username": OPERATOR[0], "password": OPERATOR[1]}
    )
    assert response.status == 403


async def test_anonymous_visitors_are_sent_to_the_login_page(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    for path in ("/operator", f"/operator/campaigns/{campaign.id}/dashboard", "/operator/dnc"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303, path
        assert response.headers["Location"].startswith("/operator/login?next=")


async def test_volunteers_get_no_access_to_operator_pages(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    volunteer = await sign_in(client, campaign.name)
    client.session.cookie_jar.update_cookies({COOKIE: volunteer.token, "session": volunteer.token})
    for path in ("/operator", f"/operator/campaigns/{campaign.id}/results"):
        response = await client.get(path, headers=bearer(volunteer.token), allow_redirects=False)
        assert response.status == 303, path
    stats = await client.get(
        f"/operator/campaigns/{campaign.id}/stats",
        headers={**bearer(volunteer.token), "Accept": "application/json"},
    )
    assert stats.status == 401


async def test_login_attempts_are_rate_limited(client: TestClient[Any, Any]) -> None:
    for _ in range(5):
        assert (await log_in(client, "wrong password!")).status == 401
    response = await log_in(client)
    assert response.status == 429
    assert "Try again" in await response.text()


async def test_a_script_reaching_for_python_internals_is_refused_at_save(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    await log_in(client)
    path = f"/operator/campaigns/{campaign.id}"
    token = await page_token(client, path)
    form = await client.get(path)
    fields = dict(re.findall(r'<input id="(\w+)" name="\1"[^>]*value="([^"]*)"', await form.text()))
    fields.update(
        csrf_token=token,
        script="Hi {{ ''.__class__.__mro__ }}",
        survey="[]",
        term_codes="talked | Talked | contact",
        abandon_message="bye",
        voicemail_message="",
        dial_mode="power",
    )
    response = await client.post(path, data=fields)
    assert response.status == 400
    text = await response.text()
    assert "starts with &#39;_&#39;" in text or "starts with '_'" in text
    assert "&lt;class" not in text and "<class" not in text
    preview = await client.post(
        "/operator/script-preview",
        json={"script": "{{ ''.__class__.__mro__ }} {{ cycler.__init__.__globals__ }}"},
        headers={"X-CSRF-Token": token},
    )
    data = await preview.json()
    assert data["problems"]
    assert "could not be shown" in data["html"]  # a notice, not the internals
    assert "&lt;class" not in data["html"] and "<class" not in data["html"]
    assert "builtins" not in data["html"]


async def test_an_xss_payload_in_voter_fields_shows_as_text_in_results(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    await add_voters(engine, campaign, f"phone,first_name,last_name\n+12025550123,{XSS},Lee\n")
    volunteer = await sign_in(client, campaign.name)
    await in_wrap_up(engine, campaign, volunteer.session_id)
    await engine.volunteers.submit_result(volunteer.session_id, "talked", {}, XSS)
    await log_in(client)
    response = await client.get(f"/operator/campaigns/{campaign.id}/results")
    text = await response.text()
    assert XSS not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


async def test_an_xss_payload_in_an_uploaded_csv_shows_as_text_in_the_report(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    await log_in(client)
    token = await page_token(client)
    data = FormData()
    data.add_field("file", f"phone,first_name\n{XSS},Ann\n".encode(), filename="v.csv")
    response = await client.post(
        f"/operator/campaigns/{campaign.id}/list/import?csrf_token={token}", data=data
    )
    assert response.status == 200
    text = await response.text()
    assert XSS not in text and "&lt;script&gt;" in text
    link = re.search(r'href="(/operator/campaigns/\d+/list/rejected/[^"]+)"', text)
    assert link, text
    rejected = await client.get(link.group(1))
    assert rejected.status == 200
    assert XSS in await rejected.text()  # the CSV download keeps the row as it was


async def test_an_operator_creates_a_campaign_through_the_form(
    client: TestClient[Any, Any], engine: Engine
) -> None:
    await log_in(client)
    token = await page_token(client, "/operator/campaigns/new")
    form = {
        "csrf_token": token,
        "name": "Fall Drive",
        "script": "Hi {{ first_name }}",
        "survey": '[{"id": "support", "text": "Support?", "kind": "single", '
        '"options": [{"value": "yes", "label": "Yes"}]}]',
        "term_codes": "talked | Talked | contact\nremove | Remove Number | remove",
        "caller_id": "",
        "dial_mode": "predictive",
        "mobile_dial_mode": "preview",
        "calling_hours_start": "09:00",
        "calling_hours_end": "21:00",
        "abandon_message": "Sorry, goodbye.",
        "voicemail_message": "",
        **dict.fromkeys(
            ("lines_per_volunteer", "max_attempts", "retry_minutes", "ring_seconds"), "2"
        ),
        "max_lines_per_volunteer": "8",
        "abandon_target": "2.5",
        "wrapup_seconds": "60",
        "logout_after_missed_wrapups": "3",
        "half_hour_guard": "on",
        "amd_engine": "streaming",
        "early_connect": "on",
        "active": "on",
    }
    unknown = {**form, "amd_engine": "whisper"}
    refused = await client.post("/operator/campaigns/new", data=unknown, allow_redirects=False)
    assert refused.status == 400
    assert "amd_engine must be empty or one of" in await refused.text()
    too_high = {**form, "abandon_target": "3.5"}
    refused = await client.post("/operator/campaigns/new", data=too_high, allow_redirects=False)
    assert refused.status == 400
    assert "between 0.1 and 3 percent" in await refused.text()
    response = await client.post("/operator/campaigns/new", data=form, allow_redirects=False)
    assert response.status == 303, await response.text()
    campaign = await engine.store.campaign_by_name("Fall Drive")
    assert campaign is not None and campaign.max_attempts == 2
    assert campaign.logout_after_missed_wrapups == 3
    assert (campaign.dial_mode, campaign.mobile_dial_mode) == ("predictive", "preview")
    assert (campaign.max_lines_per_volunteer, campaign.abandon_target) == (8, 2.5)
    assert not campaign.unknown_lines_as_mobile  # an unticked box
    assert campaign.half_hour_guard
    assert (campaign.amd_engine, campaign.early_connect) == ("streaming", True)
    assert [t.code for t in campaign.term_codes] == ["talked", "remove"]
    bad = await client.post("/operator/campaigns/new", data={**form, "survey": "[{"})
    assert bad.status == 400
    assert "not valid JSON" in await bad.text()
    branch = '[{"id": "why", "text": "Why?", "kind": "text", "ask_if": {"question": "gone"}}]'
    bad = await client.post("/operator/campaigns/new", data={**form, "survey": branch})
    assert bad.status == 400
    assert "Question &#39;why&#39; is asked only after an answer to &#39;gone&#39;" in (
        await bad.text()
    )


async def test_a_saved_campaign_without_voters_offers_the_list_upload_next(
    client: TestClient[Any, Any], engine: Engine, campaign: Campaign
) -> None:
    await log_in(client)
    page = f"/operator/campaigns/{campaign.id}"
    text = await (await client.get(page + "?saved=1")).text()
    assert "Saved." in text
    assert f'href="{page}/list">Next: upload your voter list</a>' in text
    assert "Next: upload" not in await (await client.get(page)).text()  # only after a save
    await add_voters(engine, campaign, "phone\n+12025550111\n")
    text = await (await client.get(page + "?saved=1")).text()
    assert "Saved." in text and "Next: upload" not in text


async def test_every_operator_page_renders_for_a_logged_in_operator(
    client: TestClient[Any, Any], campaign: Campaign
) -> None:
    await log_in(client)
    base = f"/operator/campaigns/{campaign.id}"
    for path in (
        "/operator",
        "/operator/campaigns/new",
        base,
        base + "/list",
        base + "/dashboard",
        base + "/results",
        "/operator/dnc",
        f"/operator/dnc?campaign_id={campaign.id}",
        "/operator/dnc/remove?phone=%2B12025550123",
    ):
        response = await client.get(path)
        assert response.status == 200, (path, await response.text())
    stats = await (await client.get(base + "/stats")).json()
    assert len(stats["contacts_per_hour"]) == 12
    assert stats["lines_in_flight"] == 0
    async with client.ws_connect(base + "/events") as ws:
        await ws.close()


async def test_dnc_numbers_are_added_and_removed_after_confirmation(
    client: TestClient[Any, Any], engine: Engine, campaign: Campaign
) -> None:
    await log_in(client)
    token = await page_token(client, "/operator/dnc")
    added = await client.post(
        "/operator/dnc",
        data={"csrf_token": token, "phone": "(202) 555-0199", "campaign_id": str(campaign.id)},
    )
    assert "+12025550199" in await added.text()
    assert await engine.store.is_dnc("+12025550199", campaign.id)
    confirm = await client.get(
        f"/operator/dnc/remove?phone=%2B12025550199&campaign_id={campaign.id}"
    )
    assert "Yes, remove it" in await confirm.text()
    assert await engine.store.is_dnc("+12025550199", campaign.id)  # not before confirming
    removed = await client.post(
        "/operator/dnc/remove",
        data={"csrf_token": token, "phone": "+12025550199", "campaign_id": str(campaign.id)},
    )
    assert removed.status == 200
    assert not await engine.store.is_dnc("+12025550199", campaign.id)
