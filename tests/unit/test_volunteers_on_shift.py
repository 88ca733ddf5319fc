"""Issue 14 item 5: the dashboard's row for each signed-in volunteer: state, audio, calls
(saved results) and contacts (results with a contact term code) this session only."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from engine.app import Engine
from engine.models import AfterResult
from tests.unit.web_support import add_voters, in_wrap_up, sign_in

pytestmark = pytest.mark.usefixtures("operator")


async def test_each_volunteer_counts_calls_and_contacts_this_session(
    client: TestClient[Any, Any], engine: Engine
) -> None:
    campaign = await engine.operators.create_campaign("test", "Shift")
    await add_voters(engine, campaign, "phone\n2025550101\n2025550102\n2025550103\n")
    volunteer = await sign_in(client, campaign.id)
    await in_wrap_up(engine, campaign, volunteer.session_id)
    await engine.volunteers.submit_result(
        volunteer.session_id, "no_contact", {}, "", AfterResult.READY
    )
    await in_wrap_up(engine, campaign, volunteer.session_id)
    stats = await engine.operators.stats(campaign.id)
    (row,) = stats["volunteers_on_shift"]
    assert (row["state"], row["audio_mode"], row["calls"], row["contacts"]) == (
        "wrap-up",
        "phone",
        1,
        0,
    )
    await engine.volunteers.submit_result(volunteer.session_id, "talked", {}, "", AfterResult.PAUSE)
    (row,) = (await engine.operators.stats(campaign.id))["volunteers_on_shift"]
    assert (row["name"], row["state"], row["calls"], row["contacts"]) == ("Ada", "paused", 2, 1)
    assert row["seconds_in_state"] >= 0 and row["phone"] is True

    # logged out: off the table
    await engine.volunteers.log_out(volunteer.session_id)
    assert (await engine.operators.stats(campaign.id))["volunteers_on_shift"] == []
