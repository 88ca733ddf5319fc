"""Answers to survey questions the volunteer was not shown are not saved, whatever a client
sends (the page leaves them out too: tests/e2e/test_survey_builder.py)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from engine.app import Engine
from engine.models import Campaign
from tests.unit.test_survey import SURVEY
from tests.unit.web_support import add_voters, in_wrap_up, sign_in


async def test_a_result_keeps_only_the_answers_of_questions_that_were_asked(
    engine: Engine, client: TestClient[Any, Any], campaign: Campaign
) -> None:
    await engine.operators.update_campaign("test", campaign.id, survey=SURVEY)
    campaign = await engine.store.get_campaign(campaign.id)
    await add_voters(engine, campaign, "phone\n+12025550123\n")
    volunteer = await sign_in(client, campaign.name)
    await in_wrap_up(engine, campaign, volunteer.session_id)
    sent = {"support": "yes", "why": "left over from 'no'", "sign": "yes"}
    result = await engine.volunteers.submit_result(volunteer.session_id, "talked", sent, "")
    assert result.answers == {"support": "yes", "sign": "yes"}
    assert (await engine.store.result_for_attempt(result.attempt_id)) == result
