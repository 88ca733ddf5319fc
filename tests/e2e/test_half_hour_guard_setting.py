"""The campaign form's half-hour guard (issue 15), in Chromium: the box says what it costs and
is ticked for a new campaign (on by default), unticking it saves the setting off, the edit
form shows it unticked, and ticking it again saves that."""

from __future__ import annotations

import uuid

from playwright.async_api import expect

from engine.app import Engine
from tests.e2e.conftest import PageFactory
from tests.e2e.test_survey_builder import log_in

LABEL = "Keep every half hour under 5% abandons (predictive)"


async def test_a_coordinator_turns_the_half_hour_guard_on_and_off(
    app_url: str, engine: Engine, new_page: PageFactory
) -> None:
    page = await new_page(1280, 900)
    await log_in(page, app_url, engine)
    await page.goto(app_url + "/operator/campaigns/new")
    guard = page.get_by_label(LABEL)
    await expect(guard).to_be_checked()  # on by default for a new campaign
    await expect(page.locator("#half_hour_guard-hint")).to_contain_text(
        "15% of the contacts with 5 volunteers"
    )
    await page.get_by_label("Name", exact=True).fill(f"Unguarded {uuid.uuid4().hex[:4]}")
    await guard.uncheck()
    await page.get_by_role("button", name="Create campaign").click()
    await expect(page.locator("#saved")).to_contain_text("Saved.")
    campaign_id = int(page.url.split("/campaigns/")[1].split("?")[0])
    assert not (await engine.store.get_campaign(campaign_id)).half_hour_guard

    await page.goto(f"{app_url}/operator/campaigns/{campaign_id}")
    await expect(guard).not_to_be_checked()
    await guard.check()
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator("#saved")).to_contain_text("Saved.")
    assert (await engine.store.get_campaign(campaign_id)).half_hour_guard
