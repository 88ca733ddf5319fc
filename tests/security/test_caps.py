"""Sizes a person can send are capped with a 400 naming the field: survey answers in a result
(in all and each one), a campaign's script, survey and term codes."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from engine.app import Engine
from engine.security import field_limits
from tests.unit.web_support import (
    add_voters,
    bearer,
    in_wrap_up,
    operator_token,
    sign_in,
)


async def _error(response: Any) -> tuple[int, str]:
    return response.status, (await response.json())["error"]["message"]


async def _post_result(
    engine: Engine, client: TestClient[Any, Any], answers: dict[str, Any]
) -> ClientResponse:
    campaign = await engine.operators.create_campaign("test", "Canvass")
    volunteer = await sign_in(client, campaign.id)
    await add_voters(engine, campaign, "first,phone\nAna,(212) 555-0123\n")
    await in_wrap_up(engine, campaign, volunteer.session_id)
    return await client.post(
        "/api/session/result",
        json={"term_code": "talked", "answers": answers},
        headers=volunteer.headers,
    )


async def test_an_overlong_answer_is_refused_naming_the_question(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    response = await _post_result(engine, client, {"q1": "a" * (field_limits.ANSWER + 1)})
    status, message = await _error(response)
    assert status == 400
    assert "the answer to 'q1' is too long: at most 2,000 characters, not 2,001" in message


async def test_an_overlong_choice_in_a_multiple_answer_is_refused(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    response = await _post_result(engine, client, {"q2": ["yes", "b" * 2001]})
    status, message = await _error(response)
    assert status == 400 and "the answer to 'q2' is too long" in message


async def test_answers_too_large_in_all_are_refused(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    answers = {f"q{n}": "c" * 1500 for n in range(20)}  # each fine, 30 KB in all
    status, message = await _error(await _post_result(engine, client, answers))
    assert status == 400 and "answers is too large: at most 20,000 bytes as JSON" in message


async def test_answers_within_the_caps_are_saved(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    response = await _post_result(engine, client, {"q1": "a" * 2000, "q2": ["yes", "no"]})
    assert response.status == 200, await response.text()


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        pytest.param(
            {"script": "s" * (field_limits.SCRIPT + 1)},
            "script is too long: at most 50,000 characters, not 50,001",
            id="script",
        ),
        pytest.param(
            {"survey": [{"id": f"q{n}", "text": "t" * 1000} for n in range(120)]},
            "survey is too large: at most 100,000 bytes as JSON",
            id="survey",
        ),
        pytest.param(
            {
                "term_codes": [
                    {"code": f"c{n}", "label": "l" * 500, "kind": "contact"} for n in range(50)
                ]
            },
            "term_codes is too large: at most 20,000 bytes as JSON",
            id="term codes",
        ),
    ],
)
async def test_oversized_campaign_settings_are_refused_naming_the_field(
    engine: Engine, client: TestClient[Any, Any], settings: dict[str, Any], expected: str
) -> None:
    headers = bearer(await operator_token(engine, client))
    created = await client.post("/api/operator/campaigns", json={"name": "Fall"}, headers=headers)
    path = f"/api/operator/campaigns/{(await created.json())['id']}"
    status, message = await _error(await client.patch(path, json=settings, headers=headers))
    assert status == 400 and expected in message
    created = await client.post(
        "/api/operator/campaigns", json={"name": "Winter", **settings}, headers=headers
    )
    status, message = await _error(created)
    assert status == 400 and expected in message
