"""Issue 14 item 1 in Chromium on the real PBX pair: nothing a volunteer typed is lost at the
wrap-up deadline. A real call ends, the volunteer picks a term code, answers a question and
types notes (reloading the page meanwhile: the draft goes with it) but never presses Next;
when the deadline passes the result is found saved (timed out), the page says so and offers
one button back to ready, and the phone stays on the line.
"""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from engine.app import Engine
from engine.ari.client import AriClient
from engine.models import ResultStatus, SessionState
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import make_campaign, voters_csv
from tests.e2e.conftest import PageFactory, Shot
from tests.e2e.support import ONE_QUESTION, assert_fits
from tests.e2e.test_volunteer_path import call_in, sign_in
from tests.helpers import wait_until

WRAPUP_SECONDS = 15
"""Long enough to pick, answer and type under a loaded machine; short for the suite."""
NOTES = "Wants a yard sign; call back after six"


async def countdown_in_view(page: Page) -> None:
    """The countdown's whole box is inside the viewport."""
    box = await page.locator("#countdown-line").bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (box, viewport)


async def focus_lands_clear_of_the_countdown(page: Page, name: str) -> None:
    """With the page scrolled so that control ``name`` sits under the sticky countdown,
    keyboard focus on it scrolls it clear (WCAG 2.4.11, focus not obscured)."""
    control = page.get_by_role("button", name=name, exact=True)
    await control.evaluate(
        "(c) => { c.blur(); window.scrollTo(0, c.getBoundingClientRect().top + scrollY - 10); }"
    )
    await control.focus()
    box = await control.bounding_box()
    countdown = await page.locator("#countdown-line").bounding_box()
    assert box is not None and countdown is not None
    assert box["y"] >= countdown["y"] + countdown["height"], (name, box, countdown)


async def test_what_was_entered_is_kept_at_the_deadline_and_the_volunteer_can_go_on(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
    shot: Shot,
) -> None:
    campaign = await make_campaign(
        engine, voters_csv([("10", 71)]), survey=ONE_QUESTION, wrapup_seconds=WRAPUP_SECONDS
    )
    page = await new_page(375, 700)
    await sign_in(page, app_url, engine, campaign)
    phone = await call_in(page, pbx_pair, carrier)
    await page.get_by_role("button", name="Click here to start calling").click()
    await expect(page.locator("#voter-name")).to_have_text("Voter0 B10V71", timeout=30_000)
    attempt_id = int(await page.locator("#voter-card").get_attribute("data-attempt-id") or 0)
    await page.get_by_role("button", name="End call").click()

    # the call ended: keyboard focus is on the call results, the countdown is showing
    first_code = page.locator("#term-codes button").first
    await expect(first_code).to_be_focused()
    await expect(page.locator("#countdown-line")).to_be_visible()
    await page.get_by_role("button", name="Talked to Correct Person").click()
    await page.get_by_label("Yes", exact=True).check()
    await page.get_by_label("Notes").fill(NOTES)
    await page.reload()  # at once: the page sends its draft as it goes (pagehide, keepalive)

    async def drafted() -> bool:
        draft = await engine.store.result_for_attempt(attempt_id)
        return draft is not None and draft.notes == NOTES and draft.term_code == "talked"

    await wait_until(drafted, timeout=10, what="the draft sent when the page went away")
    await page.reload()  # what was typed comes back with the page
    await expect(page.get_by_label("Notes")).to_have_value(NOTES)
    await expect(page.get_by_label("Yes", exact=True)).to_be_checked()
    talked = page.get_by_role("button", name="Talked to Correct Person")
    await expect(talked).to_have_attribute("aria-pressed", "true")
    await expect(talked).to_be_focused()
    await page.get_by_label("Notes").fill(NOTES + ".")  # scrolls the notes into view at 375 px
    await expect(page.locator("#draft-status")).to_have_text("Your answers are saved as you type.")
    assert await page.evaluate("() => window.scrollY") > 0  # the notes are below the fold
    await countdown_in_view(page)  # sticky: still in view while typing
    await shot(page, "typing-notes")
    await assert_fits(page)
    await page.set_viewport_size({"width": 1280, "height": 700})
    await page.get_by_label("Notes").focus()
    await countdown_in_view(page)
    await shot(page, "typing-notes")
    for name in ("Talked to Correct Person", "Yes, next call"):  # reached by Shift+Tab
        await focus_lands_clear_of_the_countdown(page, name)
    await page.set_viewport_size({"width": 375, "height": 700})
    await focus_lands_clear_of_the_countdown(page, "Talked to Correct Person")

    # nobody presses "Yes, next call": the deadline passes
    missed = page.locator("#step-missed")
    await expect(missed).to_be_visible(timeout=(WRAPUP_SECONDS + 15) * 1000)
    await expect(missed).to_contain_text("Your answers for Voter0 were saved. You're on a break")
    await expect(missed.get_by_role("button")).to_have_count(1)
    await expect(page.locator("#step-call")).to_be_hidden()
    result = await engine.store.result_for_attempt(attempt_id)
    assert result is not None
    assert (result.status, result.term_code, result.answers, result.notes) == (
        ResultStatus.TIMED_OUT,
        "talked",
        {"support": "yes"},
        NOTES + ".",
    )
    session = await engine.store.get_session(result.session_id)
    assert (session.state, session.missed_wrapups) == (SessionState.PAUSED, 1)
    assert session.channel_id is not None  # the phone is still on the line, paused
    await assert_fits(page)
    await shot(page, "time-ran-out")
    await page.set_viewport_size({"width": 1280, "height": 700})
    await shot(page, "time-ran-out")

    await missed.get_by_role("button", name="Ready for the next call").click()

    async def ready() -> bool:
        return (await engine.store.get_session(session.id)).state == SessionState.READY

    await wait_until(ready, timeout=10, what="the session to be ready again")
    await expect(page.locator("#step-waiting")).to_be_visible()
    await expect(missed).to_be_hidden()
    await expect(page.locator("#status")).to_have_text(re.compile("Waiting for the next call"))
    await page.get_by_role("button", name="Log out").first.click()
    await page.wait_for_url("**/logged-out")
    await phone.wait_hung_up()
