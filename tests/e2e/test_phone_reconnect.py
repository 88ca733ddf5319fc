"""The volunteer's page says plainly when the phone is gone, and how to get it back
(issue 11, item 13): a phone dropped in wrap-up, a result saved, then a call back with the PIN
and the next voter."""

from __future__ import annotations

from playwright.async_api import expect

from engine.app import Engine
from engine.ari.client import AriClient
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.phones import VolunteerPhone
from testbed.shift import make_campaign, voters_csv
from tests.e2e.conftest import PageFactory
from tests.e2e.test_volunteer_path import call_in, sign_in


async def test_the_page_says_the_phone_is_disconnected_until_the_volunteer_calls_back(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
) -> None:
    campaign = await make_campaign(engine, voters_csv([("10", 64), ("10", 65)]))
    page = await new_page(375, 800)
    await sign_in(page, app_url, engine, campaign)
    pin = (await page.locator("#pin").text_content() or "").strip()
    phone = await call_in(page, pbx_pair, carrier)
    await page.get_by_role("button", name="Click here to start calling").click()
    await page.get_by_role("button", name="End call").click()
    await page.get_by_role("button", name="Talked to Correct Person").click()

    await phone.hangup()

    lost = page.locator("#phone-lost")
    await expect(lost).to_be_visible()
    await expect(lost).to_contain_text("Your phone is disconnected")
    await expect(lost).to_contain_text(pin)
    await page.get_by_role("button", name="Yes, next call").click()
    await expect(page.get_by_role("heading", name="Your phone is disconnected")).to_be_visible()
    await expect(page.locator("#status")).to_contain_text("enter your PIN")
    await expect(page.get_by_text("Finding someone for you to talk to")).to_be_hidden()
    await expect(page.locator("#pin")).to_have_text(pin)
    await expect(page.locator("#callin-details")).to_be_visible()  # hidden while it was connected

    # Calling back with the PIN: straight back to taking calls, and the next voter comes.
    phone = await VolunteerPhone.call_in(pbx_pair, *carrier)
    await phone.send_dtmf(pin)
    await expect(page.get_by_role("button", name="End call")).to_be_visible(timeout=30_000)
    await expect(lost).to_be_hidden()
    await expect(page.locator("#voter-name")).not_to_be_empty()
