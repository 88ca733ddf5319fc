"""A call result is taken only for a call a person answered: never for a voter who was only
previewed (never dialed) or is still ringing, and "Remove Number" can then never put an
un-called voter on the do-not-call list. Edits (PUT) need a saved result."""

from __future__ import annotations

import io
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from engine.app import Engine
from engine.models import Attempt, Campaign, SessionState
from engine.sessions.states import SessionEvent
from engine.store.sqlite.results import HISTORY_KEPT
from tests.unit.web_support import Volunteer, claim_one, in_wrap_up, sign_in

VOTER = "+12025550101"


async def _campaign(engine: Engine, dial_mode: str = "preview") -> Campaign:
    campaign = await engine.operators.create_campaign(
        "test", "Guarded", dial_mode=dial_mode, calling_hours_end="24:00"
    )
    await engine.operators.import_list(
        "test", campaign.id, io.BytesIO(f"phone,zip\n{VOTER},20001\n".encode())
    )
    return campaign


async def _previewing(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> tuple[Volunteer, Attempt]:
    volunteer = await sign_in(client, campaign.id)
    session = await engine.store.get_session(volunteer.session_id)
    session = await engine.sessions.phone_connected(session, "phone-1", "bridge-1")
    session = await engine.volunteers.start_calling(session.id)
    voter, attempt = await claim_one(engine, campaign)
    await engine.sessions.preview_offered(session, attempt, voter, campaign)
    return volunteer, attempt


async def _refused(response: ClientResponse) -> str:
    assert response.status == 409, await response.text()
    error = (await response.json())["error"]
    assert error["code"] == "not_allowed"
    return str(error["message"])


async def test_remove_number_while_previewing_is_refused_and_adds_no_dnc_entry(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    campaign = await _campaign(engine)
    volunteer, attempt = await _previewing(engine, client, campaign)
    response = await client.post(
        "/api/session/result", headers=volunteer.headers, json={"term_code": "remove"}
    )
    message = await _refused(response)
    assert message.startswith("this voter has not been called yet")
    assert not await engine.store.is_dnc(VOTER, campaign.id)
    assert not await engine.store.is_dnc(VOTER, None)  # type: ignore[arg-type]  # the global list
    assert await engine.store.result_for_attempt(attempt.id) is None
    session = await engine.store.get_session(volunteer.session_id)
    assert session.state == SessionState.PREVIEWING, "the card stays for the volunteer to call"


async def test_a_result_while_ringing_is_refused(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    campaign = await _campaign(engine)
    volunteer, attempt = await _previewing(engine, client, campaign)
    session = await engine.store.get_session(volunteer.session_id)
    await engine.sessions.transition(session, SessionEvent.CALL_PLACED)
    response = await client.post(
        "/api/session/result", headers=volunteer.headers, json={"term_code": "talked"}
    )
    assert "not been answered yet" in await _refused(response)
    assert await engine.store.result_for_attempt(attempt.id) is None


async def test_a_result_for_a_call_never_put_through_is_refused(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    """Even in wrap-up, the attempt must have been bridged to this volunteer."""
    campaign = await _campaign(engine, dial_mode="predictive")
    volunteer = await sign_in(client, campaign.id)
    session = await in_wrap_up(engine, campaign, volunteer.session_id)
    assert session.attempt_id is not None
    await engine.store.update_attempt(session.attempt_id, bridged_at=None)
    response = await client.post(
        "/api/session/result", headers=volunteer.headers, json={"term_code": "remove"}
    )
    assert await _refused(response) == "there is no answered call to enter a result for"
    assert not await engine.store.is_dnc(VOTER, campaign.id)


async def test_editing_while_previewing_the_next_voter_is_refused(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    campaign = await _campaign(engine)
    volunteer, attempt = await _previewing(engine, client, campaign)
    response = await client.put(
        "/api/session/result", headers=volunteer.headers, json={"term_code": "remove"}
    )
    assert (await _refused(response)).startswith("there is no saved result to change")
    assert not await engine.store.is_dnc(VOTER, campaign.id)
    assert await engine.store.result_for_attempt(attempt.id) is None


async def test_a_result_in_wrap_up_of_an_answered_call_is_taken(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    campaign = await _campaign(engine, dial_mode="predictive")
    volunteer = await sign_in(client, campaign.id)
    await in_wrap_up(engine, campaign, volunteer.session_id)
    response = await client.post(
        "/api/session/result",
        headers=volunteer.headers,
        json={"term_code": "remove", "then": "pause"},
    )
    assert response.status == 200, await response.text()
    assert await engine.store.is_dnc(VOTER, campaign.id)


async def test_repeated_edits_keep_only_the_latest_history(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    campaign = await _campaign(engine, dial_mode="predictive")
    volunteer = await sign_in(client, campaign.id)
    session = await in_wrap_up(engine, campaign, volunteer.session_id)
    first = await client.post(
        "/api/session/result",
        headers=volunteer.headers,
        json={"term_code": "talked", "notes": "v0", "then": "pause"},
    )
    assert first.status == 200, await first.text()
    edits = HISTORY_KEPT + 5
    for n in range(1, edits + 1):
        edit = await client.put(
            "/api/session/result",
            headers=volunteer.headers,
            json={"term_code": "talked", "notes": f"v{n}"},
        )
        assert edit.status == 200, await edit.text()
    assert session.attempt_id is not None
    result = await engine.store.result_for_attempt(session.attempt_id)
    assert result is not None and result.notes == f"v{edits}"
    history = await engine.store.result_history(result.id)
    assert [v["notes"] for v in history] == [f"v{n}" for n in range(edits - HISTORY_KEPT, edits)]


async def test_sign_in_to_an_inactive_campaign_is_refused(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    campaign = await _campaign(engine, dial_mode="predictive")
    await engine.store.update_campaign(campaign.id, active=False)
    signup = await client.post(
        "/api/signup", json={"name": "Ada", "email": "ada@example.org", "phone": "555-0100"}
    )
    creds = await signup.json()
    for name_or_id in (campaign.id, campaign.name):
        response = await client.post(
            "/api/signin",
            json={
                "login_id": creds["login_id"],
                "password": creds["password"],
                "campaign": name_or_id,
                "audio_mode": "phone",
            },
        )
        message = await _refused(response)
        assert message.startswith("the campaign 'Guarded' is not taking volunteers")
    other = await engine.operators.create_campaign("test", "Open", calling_hours_end="24:00")
    response = await client.post(
        "/api/signin",
        json={
            "login_id": creds["login_id"],
            "password": creds["password"],
            "campaign": other.id,
            "audio_mode": "phone",
        },
    )
    assert response.status == 201, "the refused sign-in did not use up the Login ID"
