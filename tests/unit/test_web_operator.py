"""The operator's JSON API: campaigns, voter uploads, results export, do-not-call, audit,
the dashboard's WebSocket, and serving the app on a real port."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import FormData, WSCloseCode, WSMsgType
from aiohttp.test_utils import TestClient

from engine.app import Engine
from engine.config import WebConfig
from engine.models import Campaign
from tests.unit.web_support import (
    add_voters,
    bearer,
    claim_one,
    operator_token,
    sign_in,
)
from web.app import run_web

VOTERS_CSV = (
    "phone,first_name,last_name,zip\n"
    "+12025550123,Ann,Lee,20001\n"
    "+12025550124,Bob,Ray,20001\n"
    "not a phone,Cat,Poe,20001\n"
)


@pytest.fixture
async def headers(engine: Engine, client: TestClient[Any, Any]) -> dict[str, str]:
    return bearer(await operator_token(engine, client))


async def test_a_wrong_operator_password_is_401_login_failed(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    await engine.operators.add_operator("olive", "correct horse battery")
    response = await client.post(
        "/api/operator/login", json={"username": "olive", "password": "wrong password"}
    )
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "login_failed"


async def test_an_operator_creates_reads_lists_and_changes_a_campaign(
    client: TestClient[Any, Any], headers: dict[str, str]
) -> None:
    created = await client.post(
        "/api/operator/campaigns",
        headers=headers,
        json={"name": "Fall Drive", "max_attempts": 2, "script": "Hi {{ first_name }}"},
    )
    assert created.status == 201, await created.text()
    campaign = await created.json()
    assert (campaign["name"], campaign["max_attempts"]) == ("Fall Drive", 2)
    assert [t["code"] for t in campaign["term_codes"]] == ["talked", "no_contact", "remove"]
    path = f"/api/operator/campaigns/{campaign['id']}"
    assert (await (await client.get(path, headers=headers)).json())["script"] == (
        "Hi {{ first_name }}"
    )
    patched = await client.patch(path, headers=headers, json={"wrapup_seconds": 90})
    assert (await patched.json())["wrapup_seconds"] == 90
    listed = await (await client.get("/api/operator/campaigns", headers=headers)).json()
    assert [c["name"] for c in listed["campaigns"]] == ["Fall Drive"]


async def test_a_campaign_setting_of_the_wrong_type_is_400_naming_it(
    client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    response = await client.patch(
        f"/api/operator/campaigns/{campaign.id}", headers=headers, json={"max_attempts": "3"}
    )
    assert response.status == 400
    error = (await response.json())["error"]
    assert (error["field"], error["message"]) == (
        "max_attempts",
        "'max_attempts' must be a whole number",
    )


async def test_an_unknown_campaign_setting_is_400(
    client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    response = await client.patch(
        f"/api/operator/campaigns/{campaign.id}", headers=headers, json={"colour": "red"}
    )
    assert response.status == 400
    assert "colour" in (await response.json())["error"]["message"]


async def test_a_duplicate_campaign_name_is_409_conflict(
    client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    response = await client.post(
        "/api/operator/campaigns", headers=headers, json={"name": "Spring Canvass"}
    )
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "conflict"


async def test_an_unknown_campaign_is_404(
    client: TestClient[Any, Any], headers: dict[str, str]
) -> None:
    response = await client.get("/api/operator/campaigns/999", headers=headers)
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


async def test_a_multipart_csv_upload_answers_the_import_summary(
    client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    form = FormData()
    form.add_field("file", VOTERS_CSV.encode(), filename="voters.csv", content_type="text/csv")
    response = await client.post(
        f"/api/operator/campaigns/{campaign.id}/voters", headers=headers, data=form
    )
    assert response.status == 200, await response.text()
    summary = await response.json()
    assert (summary["imported"], summary["invalid"], summary["total_rows"]) == (2, 1, 3)
    assert summary["errors_total"] == 1
    assert summary["errors"][0]["line"] == 4
    assert "phone" in summary["errors"][0]["reason"]


async def test_a_raw_csv_body_is_imported_too(
    client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    response = await client.post(
        f"/api/operator/campaigns/{campaign.id}/voters",
        headers={**headers, "Content-Type": "text/csv"},
        data=VOTERS_CSV,
    )
    assert (await response.json())["imported"] == 2


async def test_an_upload_without_a_file_field_is_400(
    client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    form = FormData()
    form.add_field("list", VOTERS_CSV.encode(), filename="voters.csv")
    response = await client.post(
        f"/api/operator/campaigns/{campaign.id}/voters", headers=headers, data=form
    )
    assert response.status == 400
    assert (await response.json())["error"]["field"] == "file"


async def test_stats_answer_volunteers_and_voters(
    client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    await sign_in(client, campaign.id)
    response = await client.get(f"/api/operator/campaigns/{campaign.id}/stats", headers=headers)
    stats = await response.json()
    assert stats["campaign"] == {"id": campaign.id, "name": "Spring Canvass"}
    assert stats["volunteers"]["waiting for phone"] == 1


async def test_the_results_export_is_a_formula_safe_csv_download(
    engine: Engine, client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    await add_voters(engine, campaign, 'phone,first_name\n+12025550123,"=HYPERLINK(""x"")"\n')
    volunteer = await sign_in(client, campaign.id)
    _voter, attempt = await claim_one(engine, campaign)
    await engine.store.save_result(
        attempt.id, volunteer.session_id, "talked", {}, "+cmd|' /C calc'!A0", datetime.now(UTC)
    )
    response = await client.get(
        f"/api/operator/campaigns/{campaign.id}/results.csv", headers=headers
    )
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="spring-canvass-results.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert rows[0]["first_name"] == '\'=HYPERLINK("x")'
    assert rows[0]["notes"] == "'+cmd|' /C calc'!A0"
    assert rows[0]["term_code"] == "talked"


async def test_the_results_export_of_an_unknown_campaign_is_a_json_404(
    client: TestClient[Any, Any], headers: dict[str, str]
) -> None:
    response = await client.get("/api/operator/campaigns/999/results.csv", headers=headers)
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


async def test_do_not_call_entries_are_added_listed_and_removed(
    client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    added = await client.post(
        "/api/operator/dnc",
        headers=headers,
        json={"phone": "(202) 555-0123", "campaign_id": campaign.id, "reason": "asked"},
    )
    assert added.status == 201
    assert await added.json() == {"phone": "+12025550123", "campaign_id": campaign.id}
    listed = await client.get(f"/api/operator/dnc?campaign_id={campaign.id}", headers=headers)
    entries = (await listed.json())["entries"]
    assert [(e["phone"], e["reason"], e["created_by"]) for e in entries] == [
        ("+12025550123", "asked", "olive")
    ]
    assert (await (await client.get("/api/operator/dnc", headers=headers)).json()) == {
        "entries": []
    }
    removed = await client.delete(
        "/api/operator/dnc",
        headers=headers,
        json={"phone": "+12025550123", "campaign_id": campaign.id},
    )
    assert removed.status == 200
    again = await client.delete(
        "/api/operator/dnc",
        headers=headers,
        json={"phone": "+12025550123", "campaign_id": campaign.id},
    )
    assert again.status == 404


async def test_an_invalid_do_not_call_phone_is_400(
    client: TestClient[Any, Any], headers: dict[str, str]
) -> None:
    response = await client.post("/api/operator/dnc", headers=headers, json={"phone": "12"})
    assert response.status == 400
    assert "not a valid phone number" in (await response.json())["error"]["message"]


async def test_the_audit_log_shows_operator_actions_newest_first(
    client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    await client.patch(
        f"/api/operator/campaigns/{campaign.id}", headers=headers, json={"ring_seconds": 20}
    )
    response = await client.get("/api/operator/audit?limit=2", headers=headers)
    entries = (await response.json())["entries"]
    assert len(entries) == 2
    assert (entries[0]["actor"], entries[0]["action"]) == ("olive", "campaign.update")
    assert entries[0]["detail"] == {"id": campaign.id, "fields": ["ring_seconds"]}


async def test_an_audit_limit_out_of_range_is_400(
    client: TestClient[Any, Any], headers: dict[str, str]
) -> None:
    response = await client.get("/api/operator/audit?limit=0", headers=headers)
    assert response.status == 400
    assert (await response.json())["error"]["field"] == "limit"


async def test_campaign_events_start_with_stats_then_relay_events(
    engine: Engine, client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    path = f"/api/operator/campaigns/{campaign.id}/events"
    async with client.ws_connect(path, headers=headers) as ws:
        snapshot = await ws.receive_json(timeout=5)
        assert snapshot["type"] == "snapshot"
        assert snapshot["campaign"]["id"] == campaign.id
        volunteer = await sign_in(client, campaign.id)
        signed_in = await ws.receive_json(timeout=5)  # the dashboards list who signed in
        assert (signed_in["session_id"], signed_in["state"]) == (
            volunteer.session_id,
            "waiting for phone",
        )
        await client.post("/api/session/logout", headers=volunteer.headers)
        event = await ws.receive_json(timeout=5)
        assert (event["type"], event["session_id"], event["state"]) == (
            "session",
            volunteer.session_id,
            "logged out",
        )


async def test_run_web_serves_on_a_free_port_and_closes_sockets_on_exit(engine: Engine) -> None:
    """Port 0 picks a free port; leaving run_web closes open WebSockets with 1001."""
    async with aiohttp.ClientSession() as http:
        async with run_web(engine, WebConfig(host="127.0.0.1", port=0)) as url:
            assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
            await engine.operators.add_operator("olive", "correct horse battery")
            login = await http.post(
                f"{url}/api/operator/login",
                json={"username": "olive", "password": "correct horse battery"},
            )
            token = (await login.json())["token"]
            campaign = await engine.operators.create_campaign("test", "Live")
            ws = await http.ws_connect(
                f"{url}/api/operator/campaigns/{campaign.id}/events?token={token}"
            )
            assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
        message = await ws.receive(timeout=5)
        assert message.type == WSMsgType.CLOSE
        assert message.data == WSCloseCode.GOING_AWAY
        await ws.close()


async def test_an_upload_over_the_size_limit_is_413(
    client: TestClient[Any, Any],
    headers: dict[str, str],
    campaign: Campaign,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("web.uploads.MAX_UPLOAD_BYTES", 20)
    response = await client.post(
        f"/api/operator/campaigns/{campaign.id}/voters",
        headers={**headers, "Content-Type": "text/csv"},
        data=VOTERS_CSV,
    )
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "too_large"


async def test_an_upload_reports_its_progress_to_the_campaign_dashboards(
    client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    path = f"/api/operator/campaigns/{campaign.id}/events"
    async with client.ws_connect(path, headers=headers) as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
        await client.post(
            f"/api/operator/campaigns/{campaign.id}/voters",
            headers={**headers, "Content-Type": "text/csv"},
            data=VOTERS_CSV,
        )
        event = await ws.receive_json(timeout=5)
    assert (event["type"], event["campaign_id"], event["rows"]) == ("import", campaign.id, 3)
    assert event["bytes_done"] == event["bytes_total"] == len(VOTERS_CSV)
