"""Words that fit the volunteer's audio choice, in headless Chromium on the real PBX pair: a
volunteer on computer audio never reads "phone" from sign-in to log-out; one on the phone path
sees a wrong PIN typed on their phone on their own page (and nobody else's), with the tries left,
then connects with the right PIN."""

from __future__ import annotations

import re
import uuid

from playwright.async_api import Page, expect

from engine.app import Engine
from engine.ari.client import AriClient
from engine.models import Campaign, SessionState
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.phones import VolunteerPhone
from testbed.shift import make_campaign, voters_csv
from tests.e2e.conftest import PageFactory, Shot
from tests.helpers import wait_until

WORDS_SHOWN = """() => {
  // what the volunteer can read now, less the voter's own card (a voter has a phone)
  const card = document.getElementById("voter-card");
  const cardText = card && card.offsetParent ? card.innerText : "";
  return document.body.innerText.replace(cardText, "");
}"""
PHONE_WORD = re.compile(r"\bphones?\b", re.IGNORECASE)


async def words(page: Page) -> str:
    return str(await page.evaluate(WORDS_SHOWN))


async def no_phone_words(page: Page, step: str) -> None:
    text = await words(page)
    found = PHONE_WORD.findall(text)
    assert not found, f"{step}: a computer-audio volunteer reads 'phone':\n{text}"


async def both_widths(page: Page, shot: Shot, step: str) -> None:
    await shot(page, step)
    size = page.viewport_size or {"width": 1280, "height": 900}
    await page.set_viewport_size({"width": 375, "height": size["height"]})
    await shot(page, step)
    await page.set_viewport_size(size)


async def sign_in(page: Page, app_url: str, engine: Engine, campaign: Campaign, phone: str) -> None:
    """Sign up with ``phone`` through the engine and fill in the sign-in page (phone audio
    unless "Call using computer" is checked before Sign In)."""
    signup = await engine.volunteers.sign_up(
        "Ada Lovelace", f"ada-{uuid.uuid4().hex[:6]}@example.org", phone
    )
    await page.goto(f"{app_url}/signin?campaign={campaign.id}")
    await page.get_by_label("Login ID").fill(signup.login_id)
    await page.get_by_label("Password").fill(signup.password)


async def session_of(page: Page, engine: Engine) -> int:
    token = await page.evaluate("() => sessionStorage.getItem('phonebank.token')")
    return (await engine.volunteers.session_for_token(str(token))).id


async def test_a_computer_audio_volunteer_never_reads_phone(
    app_url: str, engine: Engine, new_page: PageFactory, shot: Shot
) -> None:
    # A voter who rings for 3 s first: the page shows "ready" before the call.
    campaign = await make_campaign(engine, voters_csv([("14", 3)]), ring_seconds=20)
    page = await new_page(1280, 900)
    await sign_in(page, app_url, engine, campaign, "+12025550143")
    await page.get_by_label("Call using computer").check()
    await page.get_by_role("button", name="Sign In").click()
    await expect(page.locator("#softphone-state-text")).to_have_text(
        "Your computer's audio is connected."
    )
    start = page.get_by_role("button", name="Click here to start calling")
    await expect(start).to_be_visible()
    await expect(page.locator("#status")).to_have_text(
        "You're connected through your computer. Press Start calling when you're ready."
    )
    await no_phone_words(page, "connected")

    await start.click()
    await expect(page.locator("#dialer-doing")).to_contain_text("a beep in your headset")
    await no_phone_words(page, "ready")
    await expect(page.locator("#voter-name")).not_to_be_empty(timeout=20_000)
    await no_phone_words(page, "talking")

    await page.get_by_role("button", name="End call").click()
    await expect(page.locator("#wrapup-title")).to_have_text(
        "The call has ended. Stay on this page — enter the call result.", use_inner_text=True
    )
    await no_phone_words(page, "wrap-up")
    await both_widths(page, shot, "computer-wrap-up")
    await page.get_by_role("button", name="Talked to Correct Person").click()
    await page.locator("#next-step").get_by_role("button", name="Take a break").click()
    await expect(page.get_by_role("heading", name="You're on a break")).to_be_visible()
    await expect(page.locator("#step-paused")).to_contain_text(
        "Keep this page open", use_inner_text=True
    )
    await no_phone_words(page, "paused")

    await page.locator("#step-paused").get_by_role("button", name="Resume calling").click()
    await expect(page.locator("#step-waiting")).to_be_visible()
    await page.get_by_role("button", name="Log out").first.click()
    await expect(page.locator("#ended-logout")).to_contain_text(
        "Your computer's audio has been disconnected.", use_inner_text=True
    )
    await no_phone_words(page, "logged out")


async def test_a_wrong_pin_typed_on_the_volunteers_phone_shows_on_their_page_only(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
    shot: Shot,
) -> None:
    campaign = await make_campaign(engine, voters_csv([("31", 1)]))
    caller = "+12025550177"
    page = await new_page(1280, 900)
    await sign_in(page, app_url, engine, campaign, "(202) 555-0177")  # as typed at sign-up
    await page.get_by_role("button", name="Sign In").click()
    await expect(page.locator("#pin")).to_have_text(re.compile(r"^\d+$"))
    callin = engine.volunteers.callin_number  # E.164, e.g. +18005550100
    shown = f"({callin[2:5]}) {callin[5:8]}-{callin[8:]}"
    await expect(page.locator("#callin-number")).to_have_text(shown)  # formatted for reading
    other = await new_page(375, 800)  # another volunteer, waiting for their own phone
    await sign_in(other, app_url, engine, campaign, "+12025550188")
    await other.get_by_role("button", name="Sign In").click()
    await expect(other.locator("#pin")).to_have_text(re.compile(r"^\d+$"))

    pin = (await page.locator("#pin").text_content() or "").strip()
    wrong = ("1" if pin[0] != "1" else "2") + pin[1:]
    assert await engine.store.session_by_pin(wrong) is None
    notice = page.locator("#pin-rejected")
    phone = await VolunteerPhone.call_in(pbx_pair, *carrier, caller=caller)
    await phone.send_dtmf(wrong)
    await expect(notice).to_have_text("That code was not accepted; you have 2 tries left.")
    await expect(notice).to_have_attribute("role", "alert")
    await both_widths(page, shot, "wrong-pin")
    await phone.send_dtmf(wrong)
    await expect(notice).to_have_text("That code was not accepted; you have 1 try left.")
    await phone.send_dtmf(wrong)
    await expect(notice).to_contain_text("That code was not accepted 3 times, so the call was")
    await phone.wait_hung_up(20)
    await expect(other.locator("#pin-rejected")).to_be_hidden()  # never another volunteer's

    phone = await VolunteerPhone.call_in(pbx_pair, *carrier, caller=caller)
    await phone.send_dtmf(pin)
    await expect(page.locator("#phone-state-text")).to_have_text(re.compile("^Connected"))
    await expect(notice).to_be_hidden()
    await page.get_by_role("button", name="Click here to start calling").click()
    await expect(page.locator("#dialer-doing")).to_contain_text("a beep on your phone")
    assert "computer" not in await words(page)
    session_id = await session_of(page, engine)

    async def calling() -> bool:
        return (await engine.store.get_session(session_id)).state == SessionState.READY

    await wait_until(calling, 10, "the volunteer to be ready")
    await expect(other.locator("#pin-rejected")).to_be_hidden()
    await phone.hangup()
