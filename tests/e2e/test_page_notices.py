"""Notices the pages show without a call going on: dialing held by an outage, shown as soon
as a page is opened (not only when it changes), and a refused caller who used the volunteer's
PIN while their phone was connected."""

from __future__ import annotations

import uuid

from playwright.async_api import expect

from engine.app import Engine
from engine.callin.callins import PIN_IN_USE_NOTICE
from engine.notifier import PinInUseEvent
from testbed.shift import make_campaign, voters_csv
from tests.e2e.conftest import PageFactory
from tests.e2e.test_volunteer_path import sign_in
from tests.helpers import wait_until

PASSWORD = "a long operator password"
HELD = "test outage"
"""A reason of this test's own: the trunk watch releases only its own."""
HELD_MESSAGE = "The phone line to the carrier is down; dialing paused."


async def test_pages_opened_while_dialing_is_held_say_so_at_once(
    app_url: str, engine: Engine, new_page: PageFactory
) -> None:
    assert engine.telephony is not None
    campaign = await make_campaign(engine, voters_csv([("13", 5)]))
    username = f"notice-{uuid.uuid4().hex[:6]}"
    await engine.operators.add_operator(username, PASSWORD)
    gate = engine.telephony.gate
    await wait_until(lambda: gate.open, 30, "the trunk qualified at start")
    gate.hold(HELD, HELD_MESSAGE)
    try:
        page = await new_page(1280, 900)
        await sign_in(page, app_url, engine, campaign)
        await expect(page.locator("#telephony-notice")).to_have_text(HELD_MESSAGE)
        await page.reload()
        await expect(page.locator("#telephony-notice")).to_have_text(HELD_MESSAGE)

        board = await new_page(1280, 900)
        await board.goto(app_url + "/operator")
        await board.get_by_label("Username").fill(username)
        await board.get_by_label("Password").fill(PASSWORD)
        await board.get_by_role("button", name="Log in").click()
        await expect(board.get_by_role("heading", name="Campaigns", exact=True)).to_be_visible()
        await board.goto(f"{app_url}/operator/campaigns/{campaign.id}/dashboard")
        await expect(board.locator("#telephony-notice")).to_have_text(HELD_MESSAGE)
    finally:
        gate.release(HELD)
    await page.reload()
    await expect(page.locator("#pin")).not_to_be_empty()
    await expect(page.locator("#telephony-notice")).to_be_hidden()


async def test_the_volunteer_page_shows_a_refused_caller_with_its_pin(
    app_url: str, engine: Engine, new_page: PageFactory
) -> None:
    campaign = await make_campaign(engine, voters_csv([("13", 6)]))
    page = await new_page(1280, 900)
    await sign_in(page, app_url, engine, campaign)
    live = await engine.store.live_sessions(campaign.id)
    assert len(live) == 1
    session = live[0]
    event: PinInUseEvent = {
        "type": "pin_in_use",
        "session_id": session.id,
        "message": PIN_IN_USE_NOTICE,
    }

    async def shown() -> bool:
        # published again until the page's WebSocket (opened after the first draw) has it
        engine.notifier.publish(campaign.id, session.id, event)
        return await page.locator("#call-notice").text_content(timeout=1000) == PIN_IN_USE_NOTICE

    await wait_until(shown, 10, "the pin_in_use notice on the page", interval=0.2)
    await expect(page.locator("#call-notice")).to_be_visible()
