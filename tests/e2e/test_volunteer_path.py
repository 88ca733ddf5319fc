"""The volunteer's whole path through the pages, in headless Chromium, on the real PBX pair:
sign-up, sign-in, call-in with the PIN shown, live voters bridged in, wrap-up, log-out."""

from __future__ import annotations

import re
import uuid

from playwright.async_api import Page, expect

from engine.app import Engine
from engine.ari.client import AriClient
from engine.models import Campaign
from testbed.behaviours import voter_number
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.phones import VolunteerPhone
from testbed.shift import make_campaign, voters_csv
from tests.e2e.conftest import PageFactory, Shot
from tests.e2e.support import assert_fits, card_latency

SURVEY = [
    {"id": "support", "text": "Can we count on your support?", "kind": "single",
     "options": [{"value": "yes", "label": "Yes", "next": "sign"},
                 {"value": "no", "label": "No"}]},
    {"id": "sign", "text": "Would you like a yard sign?", "kind": "single",
     "options": [{"value": "yes", "label": "Yes, a sign"}, {"value": "no", "label": "No sign"}]},
    {"id": "issues", "text": "Which issues matter most?", "kind": "multiple",
     "options": [{"value": "schools", "label": "Schools"}, {"value": "roads", "label": "Roads"}]},
    {"id": "comment", "text": "Anything else they said?", "kind": "text"},
]  # fmt: skip
EVIL = "<script>alert(1)</script><img src=x onerror=alert(2)>"


async def sign_in(page: Page, app_url: str, engine: Engine, campaign: Campaign) -> None:
    """Sign up through the engine and sign in through the page (test (a) does both by hand)."""
    signup = await engine.volunteers.sign_up(
        "Grace Hopper", f"grace-{uuid.uuid4().hex[:6]}@example.org", "+12025550142"
    )
    await page.goto(f"{app_url}/signin?campaign={campaign.id}")
    await page.get_by_label("Login ID").fill(signup.login_id)
    await page.get_by_label("Password").fill(signup.password)
    await page.get_by_role("button", name="Sign In").click()
    await expect(page.locator("#pin")).to_have_text(re.compile(r"^\d+$"))


async def call_in(
    page: Page, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> VolunteerPhone:
    pin = (await page.locator("#pin").text_content() or "").strip()
    phone = await VolunteerPhone.call_in(pbx_pair, *carrier)
    await phone.send_dtmf(pin)
    await expect(page.locator("#phone-state-text")).to_have_text(re.compile("Connected"))
    await expect(page.locator("#connect-title")).to_have_text("Ready to start calling")
    await expect(page.locator("#phone-state")).to_be_visible()
    await expect(page.locator("#callin-details")).to_be_hidden()
    return phone


async def test_a_volunteer_goes_from_sign_up_to_log_out_by_clicking(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
    shot: Shot,
    card_latencies: list[float],
) -> None:
    campaign = await make_campaign(
        engine,
        voters_csv([("10", 1), ("10", 2)]),
        survey=SURVEY,
        script="<p>Hi {{ first_name }}, this is {{ volunteer }}.</p>",
    )
    page = await new_page(375, 800, permissions=["clipboard-read", "clipboard-write"])
    await page.goto(app_url + "/")
    await page.get_by_role("link", name=campaign.name).click()
    await page.get_by_label("Your name").fill("Ada Lovelace")
    await page.get_by_label("Email").fill(f"ada-{uuid.uuid4().hex[:6]}@example.org")
    await page.get_by_label("Phone number").fill("+1 202 555 0100")
    await shot(page, "signup")
    await page.get_by_role("button", name="Get your login").click()
    # The Login ID and password appear once the sign-up answer has arrived.
    await expect(page.locator("#login-id")).not_to_be_empty()
    await expect(page.locator("#password")).not_to_be_empty()

    login_id = await page.locator("#login-id").text_content() or ""
    password = await page.locator("#password").text_content() or ""
    await expect(page.get_by_text("They change at every logon")).to_be_visible()
    await page.get_by_role("button", name="Copy Login ID").click()
    assert await page.evaluate("navigator.clipboard.readText()") == login_id
    await page.get_by_role("button", name="Copy password").click()
    assert await page.evaluate("navigator.clipboard.readText()") == password
    await shot(page, "login")

    await page.get_by_role("link", name="Sign in with them").click()
    await page.get_by_label("Login ID").fill(f"  {login_id.lower()} ")
    await page.get_by_label("Password").fill(f" {password}  ")
    await expect(page.get_by_label("Call using computer")).to_be_enabled()
    await expect(page.get_by_label("Call using my phone")).to_be_checked()
    await expect(page.get_by_label("Service (campaign)")).to_have_value(str(campaign.id))
    await shot(page, "signin")
    await page.get_by_role("button", name="Sign In").click()

    await expect(page.get_by_text("don't hang up between calls")).to_be_visible()
    await expect(page.locator("#phone-state-text")).to_have_text("Waiting for your phone…")
    await assert_fits(page)
    await shot(page, "callin")
    phone = await call_in(page, pbx_pair, carrier)
    await assert_fits(page)
    await shot(page, "connected")
    start = page.get_by_role("button", name="Click here to start calling")
    await expect(start).to_be_focused()  # keyboard users can press Enter at once
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("Finding someone for you to talk to")).to_be_visible()
    await assert_fits(page)
    await shot(page, "waiting")

    attempt_id, latency = await card_latency(page, engine)
    card_latencies.append(latency)
    first = (await engine.store.get_attempt(attempt_id)).voter_id
    voter = await engine.store.get_voter(first)
    await expect(page.locator("#voter-name")).to_have_text(f"{voter.first_name} {voter.last_name}")
    await expect(page.locator("#script")).to_have_text(f"Hi {voter.first_name}, this is Ada.")
    await expect(page.locator("#voter-fields")).to_contain_text(str(voter.extra["precinct"]))
    await expect(page.get_by_text("Would you like a yard sign?")).to_be_hidden()
    await page.get_by_label("Yes", exact=True).check()
    await expect(page.get_by_text("Would you like a yard sign?")).to_be_visible()
    await page.get_by_label("Yes, a sign").check()
    await page.get_by_label("Schools").check()
    await page.get_by_label("Roads").check()
    await page.get_by_label("Anything else they said?").fill("Call back after 6")
    await page.get_by_label("Notes").fill("Friendly")
    await assert_fits(page)
    await shot(page, "talking")

    await page.get_by_role("button", name="End call").click()
    await expect(
        page.get_by_text("Don't hang up your phone — enter the call result")
    ).to_be_visible()
    await expect(page.locator("#countdown")).to_have_text(re.compile(r"^[1-6]?\d$"))
    await page.get_by_label("No sign").check()  # earlier answers are still editable
    await page.get_by_role("button", name="Talked to Correct Person").click()
    await expect(page.get_by_text("Ready for the next call?")).to_be_visible()
    await assert_fits(page)
    await shot(page, "wrapup")
    await page.get_by_role("button", name="Yes, next call").click()

    first_attempt = attempt_id
    attempt_id, latency = await card_latency(page, engine, first_attempt)
    card_latencies.append(latency)
    await shot(page, "next-call")
    saved = await engine.store.result_for_attempt(first_attempt)
    assert saved is not None and saved.term_code == "talked"
    assert saved.answers == {
        "support": "yes",
        "sign": "no",
        "issues": ["schools", "roads"],
        "comment": "Call back after 6",
    }
    assert saved.notes == "Friendly"
    second = (await engine.store.get_attempt(attempt_id)).voter_id
    assert second != first
    voter = await engine.store.get_voter(second)
    await expect(page.locator("#voter-name")).to_have_text(f"{voter.first_name} {voter.last_name}")

    await page.get_by_role("button", name="End call").click()
    await page.get_by_role("button", name="No Contact").click()
    await page.get_by_role("button", name="Take a break").last.click()
    await expect(page.get_by_role("heading", name="You're on a break")).to_be_visible()
    await assert_fits(page)
    await shot(page, "break")
    await page.get_by_role("button", name="Resume calling").click()
    await expect(page.locator("#elapsed")).to_have_text(re.compile(r"^\d+:\d\d$"))
    await page.get_by_role("button", name="Log out").click()  # the list is done: stop
    await page.wait_for_url("**/logged-out")
    await expect(page.get_by_role("heading", name="You're signed out")).to_be_visible()
    await shot(page, "logged-out")
    await phone.wait_hung_up()


async def test_a_missed_wrap_up_deadline_logs_out_when_the_campaign_says_so(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
    shot: Shot,
    card_latencies: list[float],
) -> None:
    """logout_after_missed_wrapups 1: the first miss logs out (without the setting the
    volunteer is only paused: test_wrapup_deadline.py)."""
    campaign = await make_campaign(
        engine, voters_csv([("10", 3)]), wrapup_seconds=3, logout_after_missed_wrapups=1
    )
    page = await new_page(1280, 800)
    await sign_in(page, app_url, engine, campaign)
    phone = await call_in(page, pbx_pair, carrier)
    await page.get_by_role("button", name="Click here to start calling").click()
    _, latency = await card_latency(page, engine)
    card_latencies.append(latency)
    await assert_fits(page)
    await shot(page, "talking")
    await page.get_by_role("button", name="End call").click()
    await expect(page.locator("#countdown")).to_have_text(re.compile(r"^[0-3]$"))
    await shot(page, "wrapup")

    await page.wait_for_url("**/logged-out")
    heading = page.get_by_role("heading", name="You were logged out: the call result came too late")
    await expect(heading).to_be_visible()
    await expect(page.get_by_role("link", name="Get a new login").first).to_be_visible()
    await assert_fits(page)
    await shot(page, "timeout")
    await phone.wait_hung_up()


async def test_a_voter_name_made_of_html_is_shown_as_text(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
    shot: Shot,
    card_latencies: list[float],
) -> None:
    csv = f"first_name,last_name,phone\n{EVIL},Evil,{voter_number('10', 4)}\n".encode()
    campaign = await make_campaign(engine, csv, wrapup_seconds=10)
    page = await new_page(375, 800)
    await sign_in(page, app_url, engine, campaign)
    phone = await call_in(page, pbx_pair, carrier)
    await page.get_by_role("button", name="Click here to start calling").click()
    _, latency = await card_latency(page, engine)
    card_latencies.append(latency)

    await expect(page.locator("#voter-name")).to_have_text(f"{EVIL} Evil")
    assert await page.locator("#voter-card img, #voter-card script").count() == 0
    await expect(page.get_by_text(EVIL).first).to_be_visible()
    await shot(page, "escaped")
    assert page.dialogs == []  # type: ignore[attr-defined]
    await page.get_by_role("button", name="Log out").first.click()
    await page.wait_for_url("**/logged-out")
    await phone.wait_hung_up()


async def test_the_sign_up_and_sign_in_pages_fit_phone_and_laptop_screens(
    app_url: str, engine: Engine, new_page: PageFactory, shot: Shot
) -> None:
    campaign = await make_campaign(engine, voters_csv([("13", 1)]))
    page = await new_page(375, 800)
    for path in ("/", f"/join/{campaign.id}", "/signin", "/logged-out", "/no-such-page"):
        await page.goto(app_url + path)
        await assert_fits(page)
        await shot(page, path.strip("/").replace("/", "-") or "index")
    await page.goto(f"{app_url}/join/{campaign.id}")
    await page.get_by_label("Your name").fill("A. Volunteer With A Very Long Name Indeed")
    await page.get_by_label("Email").fill("someone.with.a.long.address@example.org")
    await page.get_by_label("Phone number").fill("+1 202 555 0100")
    await page.get_by_role("button", name="Get your login").click()
    await expect(page.get_by_role("button", name="Copy Login ID")).to_be_visible()
    await assert_fits(page)
    await page.goto(app_url + "/no-such-page")
    await expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
