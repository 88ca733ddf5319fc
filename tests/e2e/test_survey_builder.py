"""The survey and term-code builder on the campaign form (issue 14 item 3), in Chromium: a
coordinator builds a branching survey, reorders and deletes, edits term codes, watches the
preview, goes through the JSON view and back, saves and reloads; a volunteer on a real call
sees the conditional question only while its answer holds, and only visible answers are saved."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from playwright.async_api import Page, expect

from engine.app import Engine
from engine.ari.client import AriClient
from engine.models import ResultStatus
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import make_campaign, voters_csv
from tests.e2e.conftest import PageFactory, Shot
from tests.e2e.support import assert_fits, both_widths
from tests.e2e.test_volunteer_path import call_in, sign_in

PASSWORD = "correct horse battery"
SUPPORT = "Can we count on your support?"
BRANCHED = [
    {"id": "support", "text": SUPPORT, "kind": "single",
     "options": [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]},
    {"id": "why_not", "text": "Why not?", "kind": "text", "options": [],
     "ask_if": {"question": "support", "answer": "no"}},
    {"id": "would_you_like_a_yard_sign", "text": "Would you like a yard sign?", "kind": "single",
     "options": [{"value": "yes_a_sign", "label": "Yes, a sign"}, {"value": "no", "label": "No"}],
     "ask_if": {"question": "support", "answer": "yes"}},
]  # fmt: skip


async def log_in(page: Page, app_url: str, engine: Engine) -> None:
    username = f"bea-{uuid.uuid4().hex[:4]}"
    await engine.operators.add_operator(username, PASSWORD)
    await page.goto(app_url + "/operator/login")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Campaigns", exact=True)).to_be_visible()


async def survey_json(page: Page) -> Any:
    return json.loads(await page.locator("#survey").input_value())


async def build_questions(page: Page) -> None:
    """Three questions with two branches, plus a fourth moved up and deleted (then undone)."""
    for _ in range(3):
        await page.get_by_role("button", name="Add question").click()
    await expect(page.locator("#sb-q2-text")).to_be_focused()
    await page.locator("#sb-q0-text").fill(SUPPORT)
    await expect(page.locator("#sb-q0-id")).to_have_value("can_we_count_on_your_support")
    await page.locator("#sb-q0-id").fill("support")
    await page.locator("#sb-q1-text").fill("Why not?")
    await page.locator("#sb-q1-kind").select_option("text")
    await page.locator("#sb-q1-if").select_option("support")
    await page.locator("#sb-q1-if-answer").select_option("no")
    await expect(page.locator("#sb-q1-if-said")).to_have_text(
        f"Asked only when question 1, “{SUPPORT}”, is answered “No”."
    )
    await page.locator("#sb-q2-text").fill("Would you like a yard sign?")
    await page.locator("#sb-q2-o0-label").fill("Yes, a sign")
    await expect(page.locator("#sb-q2-o0-value")).to_have_value("yes_a_sign")
    await page.locator("#sb-q2-if").select_option("support")
    await expect(page.locator("#sb-q2-if-answer")).to_have_value("yes")

    await page.get_by_role("button", name="Add question").click()
    await page.locator("#sb-q3-text").fill("Which issues matter most?")
    await page.locator("#sb-q3-kind").select_option("multiple")
    await page.locator("#sb-q3-up").click()  # keyboard focus follows the moved question
    await expect(page.locator("#sb-q2-up")).to_be_focused()
    await expect(page.locator("#survey-builder-status")).to_have_text(
        "Moved question “Which issues matter most?” to position 3."
    )
    assert [q["text"] for q in await survey_json(page)][2] == "Which issues matter most?"
    await page.locator("#sb-q2-delete").click()
    await expect(page.locator("#survey-builder-status")).to_contain_text(
        "Deleted question “Which issues matter most?”."
    )
    assert await survey_json(page) == BRANCHED


async def check_preview(page: Page) -> None:
    """The preview draws the volunteer's form: each branch shows only under its answer."""
    preview = page.locator("#survey-preview")
    why = preview.locator("[data-question=why_not]")
    sign = preview.locator("[data-question=would_you_like_a_yard_sign]")
    await expect(why).to_be_hidden()
    await expect(sign).to_be_hidden()
    support = preview.locator("[data-question=support]")
    await support.get_by_label("No", exact=True).check()
    await expect(why).to_be_visible()
    await why.get_by_role("textbox").fill("Too busy")
    await expect(page.locator("#survey-preview-answers")).to_have_text(
        "Saved with the call: support: no; why_not: Too busy."
    )
    await support.get_by_label("Yes", exact=True).check()
    await expect(why).to_be_hidden()
    await expect(sign).to_be_visible()
    await expect(page.locator("#survey-preview-answers")).to_have_text(
        "Saved with the call: support: yes."
    )
    # The preview follows the builder at once.
    await page.locator("#sb-q2-text").fill("Would you like a yard sign for your lawn?")
    await expect(preview.locator(".question").nth(2).locator("legend")).to_have_text(
        "Would you like a yard sign for your lawn?"
    )
    await page.locator("#sb-q2-text").fill("Would you like a yard sign?")


async def edit_term_codes(page: Page) -> None:
    await page.get_by_role("button", name="Add term code").click()
    await expect(page.locator("#tb-c3-label")).to_be_focused()
    await expect(page.locator("#term-problem")).to_have_text("Term code 4 needs a label.")
    await page.locator("#tb-c3-label").fill("Moved away")
    await expect(page.locator("#term-problem")).to_be_empty()
    await expect(page.locator("#tb-c3-code")).to_have_value("moved_away")
    await page.locator("#tb-c3-kind").select_option("no contact")
    await expect(page.locator("#tb-c3-kind-hint")).to_contain_text("recorded as no contact")
    await page.locator("#tb-c3-up").click()
    await page.locator("#tb-c1-delete").click()  # "No Contact"
    await expect(page.locator("#term-builder-status")).to_contain_text(
        "Deleted term code “No Contact”."
    )
    await expect(page.locator("#term_codes")).to_have_value(
        "talked | Talked to Correct Person | contact\n"
        "moved_away | Moved away | no contact\n"
        "remove | Remove Number | remove"
    )


async def test_a_coordinator_builds_a_branching_survey_and_term_codes(
    app_url: str, engine: Engine, new_page: PageFactory, shot: Shot
) -> None:
    page = await new_page(1280, 900)
    await log_in(page, app_url, engine)
    await page.goto(app_url + "/operator/campaigns/new")
    await expect(page.locator("#survey-advanced")).not_to_have_attribute("open", "")
    await page.get_by_label("Name", exact=True).fill(f"Builder {uuid.uuid4().hex[:4]}")
    await build_questions(page)
    await check_preview(page)
    await edit_term_codes(page)
    await both_widths(page, shot, "built")

    # Deleting a question another one depends on says so in one sentence; Undo brings it back.
    await page.locator("#sb-q0-delete").click()
    problem = page.locator("#survey-problem")
    await expect(problem).to_have_text(
        "Question 'why_not' is asked only after an answer to 'support', "
        "but there is no such question."
    )
    await page.locator("#survey-builder-status").get_by_role("button", name="Undo").click()
    await expect(problem).to_be_empty()

    # The JSON view and back: an edit there redraws the builder; a broken branch is refused
    # by the server with the same sentence, shown on the form.
    await page.get_by_text("Advanced: edit as JSON").click()
    broken = json.dumps(BRANCHED).replace(
        '"question": "support", "answer": "no"', '"question": "gone", "answer": "no"'
    )
    await page.locator("#survey").fill(broken.replace("Why not?", "Why not, may I ask?"))
    await expect(page.locator("#sb-q1-text")).to_have_value("Why not, may I ask?")
    await expect(problem).to_contain_text("an answer to 'gone', but there is no such question.")
    await expect(page.locator("#sb-q1-if-said")).to_contain_text("'gone', a question that no")
    await page.set_viewport_size({"width": 375, "height": 900})
    assert await page.locator("#sb-q1-if").evaluate(CUT_OFF) == ""  # the menu says it whole
    await page.set_viewport_size({"width": 1280, "height": 900})
    await both_widths(page, shot, "json-view")
    await page.get_by_role("button", name="Create campaign").click()
    await expect(page.locator("#form-error")).to_have_text(
        "Question 'why_not' is asked only after an answer to 'gone', but there is no such question."
    )
    await expect(page.locator("#sb-q1-if")).to_have_value("gone")  # the builder reopens as sent
    await page.locator("#sb-q1-if").select_option("support")
    await page.locator("#sb-q1-if-answer").select_option("no")
    await page.locator("#sb-q1-text").fill("Why not?")
    await page.get_by_role("button", name="Create campaign").click()

    await expect(page.locator("#saved")).to_contain_text("Saved.")
    next_step = page.get_by_role("link", name="Next: upload your voter list")
    await expect(next_step).to_have_attribute("href", re.compile(r"/operator/campaigns/\d+/list$"))
    campaign_id = int(page.url.split("/campaigns/")[1].split("?")[0])
    saved = await engine.store.get_campaign(campaign_id)
    assert saved.survey == BRANCHED
    assert [t.code for t in saved.term_codes] == ["talked", "moved_away", "remove"]
    await page.reload()
    await expect(page.locator("#sb-q2-text")).to_have_value("Would you like a yard sign?")
    await expect(page.locator("#sb-q1-if-answer")).to_have_value("no")
    await expect(page.locator("#tb-c1-label")).to_have_value("Moved away")
    await page.locator("#sb-q0-text").fill("Can we count on you?")  # a saved id stays put
    await expect(page.locator("#sb-q0-id")).to_have_value("support")
    await both_widths(page, shot, "saved")


CUT_OFF = """(select) => {
  const probe = document.createElement("span");
  probe.textContent = select.selectedOptions[0].textContent;
  probe.style = "position:absolute;white-space:nowrap;font:" + getComputedStyle(select).font;
  document.body.append(probe);
  const room = select.clientWidth - 48;  // its padding and the arrow
  const needed = probe.getBoundingClientRect().width;
  probe.remove();
  return needed > room ? `${needed} > ${room}` : "";
}"""
"""How much wider the chosen option's text is than the room a select has for it ("" fits)."""


async def test_the_dial_mode_menu_is_never_cut_off(
    app_url: str, engine: Engine, new_page: PageFactory
) -> None:
    page = await new_page(375, 800)
    await log_in(page, app_url, engine)
    await page.goto(app_url + "/operator/campaigns/new")
    menu = page.get_by_label("Dial mode")
    await expect(menu).to_have_value("predictive")
    for width in (375, 1280):
        await page.set_viewport_size({"width": width, "height": 800})
        for mode in ("predictive", "power", "adaptive", "preview"):
            await menu.select_option(mode)
            cut = await menu.evaluate(CUT_OFF)
            assert not cut, f"{mode} at {width}px: {cut}"


async def test_a_volunteer_sees_a_conditional_question_only_while_its_answer_holds(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
    shot: Shot,
) -> None:
    campaign = await make_campaign(engine, voters_csv([("10", 33)]), survey=BRANCHED)
    page = await new_page(375, 800)
    await sign_in(page, app_url, engine, campaign)
    phone = await call_in(page, pbx_pair, carrier)
    await page.get_by_role("button", name=re.compile("start calling", re.I)).click()
    survey = page.locator("#survey")
    await expect(survey.get_by_text(SUPPORT)).to_be_visible(timeout=30_000)
    why = survey.locator("[data-question=why_not]")
    sign = survey.locator("[data-question=would_you_like_a_yard_sign]")
    await expect(why).to_be_hidden()
    support = survey.locator("[data-question=support]")
    await support.get_by_label("No", exact=True).check()
    await expect(why).to_be_visible()
    await why.get_by_role("textbox").fill("Too busy")
    await support.get_by_label("Yes", exact=True).check()
    await expect(why).to_be_hidden()
    await sign.get_by_label("Yes, a sign").check()
    await shot(page, "volunteer-branch")
    await page.set_viewport_size({"width": 1280, "height": 800})
    await shot(page, "volunteer-branch")
    await assert_fits(page)
    attempt_id = int(await page.locator("#voter-card").get_attribute("data-attempt-id") or 0)
    await page.get_by_role("button", name="End call").click()
    await page.locator("#term-codes button[data-code=talked]").click()
    await page.locator("#next-step [data-then=logout]").click()
    await expect(page).to_have_url(re.compile("/logged-out"))
    await phone.wait_hung_up()
    saved = await engine.store.result_for_attempt(attempt_id)
    assert saved is not None and saved.answers == {
        "support": "yes",
        "would_you_like_a_yard_sign": "yes_a_sign",
    }
    assert saved.status == ResultStatus.FINAL  # saved as final by the button, not a draft
