"""The survey builder in Firefox ESR (lean: test_survey_builder.py covers it in Chromium): a
coordinator adds two questions, makes the second depend on the first, sees the preview show it
only under that answer, and saves."""

from __future__ import annotations

import json
import uuid

from engine.app import Engine
from tests.e2e.other_browsers import BrowserShot, DrivenPage, FirefoxPage, browser_shot, firefox

__all__ = ["browser_shot", "firefox"]  # the fixtures this module uses

PASSWORD = "correct horse battery"
CHOOSE = """const s = document.querySelector(arguments[0]);
s.value = arguments[1];
s.dispatchEvent(new Event("change", {bubbles: true}));"""
"""Pick a <select>'s option by value as a person would (the drivers' select support differs)."""
HIDDEN = "return document.querySelector(arguments[0])?.hidden === true;"


async def choose(page: DrivenPage, css: str, value: str) -> None:
    await page.wait_for_visible(css)
    await page.evaluate(CHOOSE, css, value)


async def test_a_coordinator_builds_a_branching_survey_in_firefox(
    app_url: str, engine: Engine, firefox: FirefoxPage, browser_shot: BrowserShot
) -> None:
    username = f"fern-{uuid.uuid4().hex[:4]}"
    await engine.operators.add_operator(username, PASSWORD)
    await firefox.goto(app_url + "/operator/login?next=/operator/campaigns/new")
    await firefox.fill("#username", username)
    await firefox.fill("#password", PASSWORD)
    await firefox.click("form button[type=submit]")
    await firefox.wait_for_url("/operator/campaigns/new")
    name = f"Fox {uuid.uuid4().hex[:4]}"
    await firefox.fill("#name", name)

    await firefox.click("#survey-add")
    await firefox.fill("#sb-q0-text", "Can we count on you?")
    await firefox.click("#survey-add")
    await firefox.fill("#sb-q1-text", "Why not?")
    await choose(firefox, "#sb-q1-kind", "text")
    await choose(firefox, "#sb-q1-if", "can_we_count_on_you")
    await choose(firefox, "#sb-q1-if-answer", "no")
    await firefox.wait_for_text("#sb-q1-if-said", "is answered “No”")

    why = "#survey-preview [data-question=why_not]"
    assert await firefox.evaluate(HIDDEN, why)
    await firefox.click("#q-can_we_count_on_you-1")  # "No" in the preview
    await firefox.wait_for_visible(why)
    await firefox.click("#q-can_we_count_on_you-0")  # "Yes"
    await firefox.wait_for_js(HIDDEN, why, what="the conditional question to hide again")
    await firefox.wait_for_text("#survey-preview-answers", "^Saved with the call: can_we")
    await browser_shot(firefox, "built")

    await firefox.click(".campaign-form button[type=submit]")
    await firefox.wait_for_visible("#saved")
    saved = await engine.store.campaign_by_name(name)
    assert saved is not None
    assert saved.survey[1]["ask_if"] == {"question": "can_we_count_on_you", "answer": "no"}
    shown = await firefox.evaluate("return document.querySelector('#survey').value")
    assert json.loads(shown) == saved.survey  # the builder reopens what was saved
