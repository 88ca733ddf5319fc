"""Preview dialing in headless Chromium on the real PBX pair: the volunteer reads the voter's
card, clicks "Call {first name}", talks, ends the call, saves a term code and gets the next
card; skips one; cancels a call while it rings; sees why a call did not connect."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from engine.app import Engine
from engine.ari.client import AriClient
from engine.models import CallOutcome, VoterStatus
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import make_campaign, voters_csv
from tests.e2e.conftest import PageFactory, Shot
from tests.e2e.support import assert_fits
from tests.e2e.test_accessibility import violations
from tests.e2e.test_volunteer_path import call_in, sign_in

SURVEY = [
    {"id": "support", "text": "Can we count on your support?", "kind": "single",
     "options": [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]},
]  # fmt: skip


async def shots(page: Page, shot: Shot, step: str) -> None:
    """The step at a phone's width and a laptop's, checked to fit both and by axe-core."""
    await assert_fits(page)
    assert await violations(page) == [], step
    for width in (375, 1280):
        await page.set_viewport_size({"width": width, "height": 800})
        await shot(page, step)
    await page.set_viewport_size({"width": 375, "height": 800})


async def test_a_volunteer_previews_calls_skips_and_cancels_by_clicking(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
    shot: Shot,
) -> None:
    campaign = await make_campaign(
        engine,
        voters_csv([("10", 41), ("10", 42), ("40", 43), ("30", 44)]),
        dial_mode="preview",
        survey=SURVEY,
        script="<p>Hi {{ first_name }}, this is {{ volunteer }} with the campaign.</p>",
    )
    page = await new_page(375, 800)
    await sign_in(page, app_url, engine, campaign)
    phone = await call_in(page, pbx_pair, carrier)
    await page.get_by_role("button", name="Click here to start calling").click()

    # The first card: nobody is dialed until Call.
    call = page.get_by_role("button", name="Call Voter0")
    await expect(call).to_be_visible()
    await expect(page.locator("#voter-name")).to_have_text("Voter0 B10V41")
    await expect(page.locator("#script")).to_have_text(
        "Hi Voter0, this is Grace with the campaign."
    )
    await expect(page.get_by_role("button", name="Skip")).to_be_visible()
    await expect(page.get_by_role("button", name="End call")).to_be_hidden()
    await expect(page.locator("#status")).to_have_text(re.compile("press Call"))
    first = await _attempt_on_card(page)
    assert (await engine.store.get_attempt(first)).originated_at is None
    await shots(page, shot, "preview-card")

    await call.click()
    await expect(page.get_by_role("button", name="End call")).to_be_visible(timeout=30_000)
    await expect(page.locator("#cue")).to_be_visible()
    await page.get_by_label("Yes").check()
    await shots(page, shot, "talking")
    await page.get_by_role("button", name="End call").click()
    await page.get_by_role("button", name="Talked to Correct Person").click()
    await page.get_by_role("button", name="Yes, next call").click()

    # The next card; skip it.
    await expect(page.get_by_role("button", name="Call Voter1")).to_be_visible()
    saved = await engine.store.result_for_attempt(first)
    assert saved is not None and saved.term_code == "talked"
    assert saved.answers == {"support": "yes"}
    skipped = await _attempt_on_card(page, after=first)
    await shots(page, shot, "next-card")
    await page.get_by_role("button", name="Skip").click()

    # A slow answerer: it rings; cancel it.
    await expect(page.get_by_role("button", name="Call Voter2")).to_be_visible()
    slow = await _attempt_on_card(page, after=skipped)
    await page.get_by_role("button", name="Call Voter2").click()
    await expect(page.get_by_text("Ringing…").first).to_be_visible()
    await expect(page.get_by_role("button", name="Call Voter2")).to_be_hidden()
    await shots(page, shot, "ringing")
    await page.get_by_role("button", name="Cancel").click()

    # A busy line: told in words, then the next card (the skipped voter, back in line).
    await page.get_by_role("button", name="Call Voter3").click()
    await expect(page.locator("#call-notice")).to_have_text("Last call: Busy.", timeout=20_000)
    await expect(page.get_by_role("button", name="Call Voter1")).to_be_visible()
    await shots(page, shot, "busy-then-next")

    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url("**/logged-out")
    await phone.wait_hung_up()

    skipped_voter = await engine.store.get_voter((await engine.store.get_attempt(skipped)).voter_id)
    assert (skipped_voter.status, skipped_voter.attempts) == (VoterStatus.PENDING, 0)
    assert (await engine.store.get_attempt(slow)).outcome == CallOutcome.NO_ANSWER
    attempts = await engine.store.list_attempts(campaign.id)
    assert [a.outcome for a in attempts if a.originated_at] == [
        CallOutcome.CONTACT,
        CallOutcome.NO_ANSWER,
        CallOutcome.BUSY,
    ]


async def _attempt_on_card(page: Page, after: int | None = None) -> int:
    """The attempt of the card on screen; `after`: the previous card's, which the page
    replaces on its next animation frame."""
    card = page.locator("#voter-card")
    other = "" if after is None else rf"(?!{after}$)"
    await expect(card).to_have_attribute("data-attempt-id", re.compile(rf"^{other}\d+$"))
    return int(await card.get_attribute("data-attempt-id") or 0)
