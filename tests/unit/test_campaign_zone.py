"""Issue 14 item 5: the campaign's time zone (setting, or most of its voters', or UTC)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient

from engine.app import Engine
from engine.errors import InvalidInput
from engine.models import Campaign
from engine.time_zone import campaign_zone, valid_time_zone
from tests.unit.test_operator_pages import log_in


def test_the_setting_wins() -> None:
    campaign = Campaign(id=1, name="Fall", time_zone="America/Denver")
    assert campaign_zone(campaign, {"America/New_York": 90}) == ZoneInfo("America/Denver")


def test_empty_setting_takes_the_zone_most_voters_are_in() -> None:
    campaign = Campaign(id=1, name="Fall")
    zones = Counter({"America/New_York": 3, "America/Chicago": 7, "": 50})
    assert campaign_zone(campaign, zones) == ZoneInfo("America/Chicago")


def test_a_tie_is_broken_by_name_and_nothing_known_is_utc() -> None:
    campaign = Campaign(id=1, name="Fall")
    tie = {"America/New_York": 2, "America/Chicago": 2}
    assert campaign_zone(campaign, tie) == ZoneInfo("America/Chicago")
    assert campaign_zone(campaign, {"": 10}) == ZoneInfo("UTC")
    assert campaign_zone(campaign, {}) == ZoneInfo("UTC")


def test_the_setting_is_validated() -> None:
    assert valid_time_zone(" Europe/Berlin ") == "Europe/Berlin"
    assert valid_time_zone("") == ""
    with pytest.raises(InvalidInput, match="not a known time zone"):
        valid_time_zone("Mars/Olympus")
    with pytest.raises(InvalidInput, match="must be text"):
        valid_time_zone(5)


async def test_a_campaign_refuses_an_unknown_time_zone(engine: Engine) -> None:
    campaign = await engine.operators.create_campaign("test", "Zones", time_zone="US/Central")
    assert campaign.time_zone == "US/Central"
    with pytest.raises(InvalidInput, match="'Moon/Base' is not a known time zone"):
        await engine.operators.update_campaign("test", campaign.id, time_zone="Moon/Base")


@pytest.mark.usefixtures("operator")
async def test_the_form_shows_the_setting_and_the_dashboard_uses_it(
    client: TestClient[Any, Any], engine: Engine
) -> None:
    campaign = await engine.operators.create_campaign(
        "test", "Chicago", time_zone="America/Chicago"
    )
    await log_in(client)
    form = await (await client.get(f"/operator/campaigns/{campaign.id}")).text()
    assert re.search(r'<label for="time_zone">Campaign time zone</label>', form)
    assert 'name="time_zone" type="text" list="time-zones" value="America/Chicago"' in form
    stats = await (await client.get(f"/operator/campaigns/{campaign.id}/stats")).json()
    assert stats["time_zone"] == "America/Chicago"
    assert stats["time_zone_abbreviation"] in ("CST", "CDT")
    assert stats["volunteers_on_shift"] == [] and stats["calls_placed_last_hour"] == 0
