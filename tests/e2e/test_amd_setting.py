"""The campaign form's answering-machine detection (issue 17), in Chromium: the choice says
what each detector costs a voter and a volunteer, a new campaign uses the server's default,
choosing phonebank's own detector with early connect saves both, and the edit form shows
them chosen; the "put a voter still greeting through" choice saves the detector's deadline and
keeps thresholds set through the API."""

from __future__ import annotations

import uuid

from playwright.async_api import expect

from engine.app import Engine
from tests.e2e.conftest import PageFactory, Shot
from tests.e2e.test_survey_builder import log_in


async def test_a_coordinator_chooses_the_streaming_detector_and_early_connect(
    app_url: str, engine: Engine, new_page: PageFactory, shot: Shot
) -> None:
    page = await new_page(1280, 900)
    await log_in(page, app_url, engine)
    await page.goto(app_url + "/operator/campaigns/new")
    detector = page.get_by_label("Answering-machine detection")
    early = page.get_by_label("Early connect (phonebank's own detector)")
    await expect(detector).to_have_value("")
    await expect(detector.locator("option:checked")).to_have_text(
        "This server's default (Asterisk's AMD())"
    )
    await expect(page.locator("#amd-engine-hint")).to_contain_text("about 0.8 s (median)")
    await expect(page.locator("#amd-engine-hint")).to_contain_text("2.4 s of nothing")
    await expect(early).not_to_be_checked()
    deadline = page.get_by_label("Put a voter who is still greeting through")
    await expect(deadline.locator("option:checked")).to_have_text("When their greeting ends")
    await expect(page.locator("#deadline-hint")).to_contain_text("most machines for about a second")
    await page.get_by_label("Name", exact=True).fill(f"Fast connect {uuid.uuid4().hex[:4]}")
    await detector.select_option("streaming")
    await early.check()
    await deadline.select_option("1400")
    await detector.scroll_into_view_if_needed()
    await shot(page, "amd-choice")
    await page.get_by_role("button", name="Create campaign").click()
    await expect(page.locator("#saved")).to_contain_text("Saved.")
    campaign_id = int(page.url.split("/campaigns/")[1].split("?")[0])
    campaign = await engine.store.get_campaign(campaign_id)
    assert (campaign.amd_engine, campaign.early_connect) == ("streaming", True)
    assert campaign.amd_thresholds == {"human_deadline_ms": 1400}

    await page.goto(f"{app_url}/operator/campaigns/{campaign_id}")
    await expect(detector).to_have_value("streaming")
    await expect(early).to_be_checked()
    await expect(deadline.locator("option:checked")).to_have_text(
        "1.4 s after they answer, even mid-sentence"
    )
    await detector.select_option("app_amd")
    await early.uncheck()
    await deadline.select_option("")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator("#saved")).to_contain_text("Saved.")
    campaign = await engine.store.get_campaign(campaign_id)
    assert (campaign.amd_engine, campaign.early_connect) == ("app_amd", False)
    assert campaign.amd_thresholds == {}

    # Thresholds set through the API stay, and a deadline the form does not offer is shown.
    api_set = {"human_pause_ms": 400, "human_deadline_ms": 1200}
    await engine.operators.update_campaign("api", campaign_id, amd_thresholds=api_set)
    await page.goto(f"{app_url}/operator/campaigns/{campaign_id}")
    await expect(deadline.locator("option:checked")).to_have_text(
        "1.2 s after they answer (set through the API)"
    )
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator("#saved")).to_contain_text("Saved.")
    assert (await engine.store.get_campaign(campaign_id)).amd_thresholds == api_set

    narrow = await new_page(375, 800)
    await log_in(narrow, app_url, engine)
    await narrow.goto(f"{app_url}/operator/campaigns/{campaign_id}")
    for label in ("Answering-machine detection", "Put a voter who is still greeting through"):
        select = narrow.get_by_label(label)
        await select.scroll_into_view_if_needed()
        box = await select.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, label
    await shot(narrow, "amd-choice")
