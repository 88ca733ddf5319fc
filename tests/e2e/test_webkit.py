"""The volunteer's path in WebKitGTK (Debian's webkit2gtk-driver: Safari's engine, driven
through Selenium on a private Xvfb display) on the real PBX pair, and what the pages do in a
browser that cannot "Call using computer".

Debian's WebKitGTK 2.50 has getUserMedia (a mock microphone here) but no RTCPeerConnection,
even with WebRTC switched on, so the pages must detect that and steer the volunteer to the
phone call-in. The same detection is tested in Chromium with the APIs taken away by an init
script, so it stays tested if WebKit gains WebRTC."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, async_playwright, expect

from engine.app import Engine
from engine.ari.client import AriClient
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import make_campaign, voters_csv
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PageFactory, Shot
from tests.e2e.other_browsers import VISIBLE, BrowserShot, WebKitPage, browser_shot, webkit
from tests.e2e.support import (
    SIGN_IN_ANYWAY,
    call_in_by_phone,
    sign_in_anyway,
    volunteer_path_by_phone,
)

__all__ = ["browser_shot", "webkit"]  # the fixtures this module uses

NO_WEBRTC = "This browser cannot make internet calls (it has no WebRTC), so call in from your"
NO_MICROPHONE = "This browser does not let web pages use a microphone, so call in from your"
INSECURE = "Calling from this computer needs this site's secure https:// address, so call in"


async def test_a_volunteer_goes_from_sign_up_to_log_out_in_webkit(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    webkit: WebKitPage,
    browser_shot: BrowserShot,
) -> None:
    await volunteer_path_by_phone(webkit, app_url, engine, pbx_pair, carrier, browser_shot, 23)


async def test_webkit_without_webrtc_steers_the_volunteer_to_the_phone(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    webkit: WebKitPage,
    browser_shot: BrowserShot,
) -> None:
    """The sign-in page disables "Call using computer" and says why; a session that asked for
    it anyway (an old page, a bookmark) shows the same sentence with the call-in number and PIN,
    and the volunteer's phone call-in then works."""
    campaign = await make_campaign(engine, voters_csv([("10", 24)]))
    signup = await engine.volunteers.sign_up(
        "Grace Hopper", f"grace-{uuid.uuid4().hex[:6]}@example.org", "+12025550142"
    )
    await webkit.goto(f"{app_url}/signin?campaign={campaign.id}")
    support = "const s = window.PhonebankBrowserSupport; return s ? {gaps: s.missing()} : null;"
    gaps = (await webkit.wait_for_js(support, what="browser-support.js"))["gaps"]
    assert gaps == ["webrtc"], (
        f"WebKitGTK now lacks {gaps}: if it has WebRTC, test 'Call using computer' in it as"
        " test_firefox.py does"
    )
    await webkit.wait_for_text("#browser-hint", f"^{re.escape(NO_WEBRTC)}")
    assert await webkit.evaluate("return document.querySelector('[value=browser]').disabled")
    assert await webkit.evaluate("return document.querySelector('[value=phone]').checked")
    assert "webrtc" in await webkit.evaluate(
        "return document.getElementById('browser-hint').dataset.unsupported"
    )
    await browser_shot(webkit, "signin")

    token = await sign_in_anyway(webkit, signup.login_id, signup.password, campaign.id)
    session_id = (await engine.volunteers.session_for_token(token)).id
    await webkit.goto(f"{app_url}/session")
    await webkit.wait_for_text("#softphone-error", f"^{re.escape(NO_WEBRTC)}")
    assert (
        await webkit.evaluate("return document.getElementById('softphone-error').dataset.kind")
        == "unsupported"
    )
    view = await engine.volunteers.view(session_id)
    await webkit.wait_for_visible("#softphone-fallback")
    assert await webkit.text("#fallback-pin") == view["pin"]
    assert await webkit.text("#fallback-number") == view["callin_number_display"]
    assert await webkit.text("#connect-title") == "Call in from your phone"
    assert not await webkit.evaluate(VISIBLE, "#mute"), "a Mute button with nothing to mute"
    await browser_shot(webkit, "session")
    phone = await call_in_by_phone(webkit, pbx_pair, carrier)
    await browser_shot(webkit, "phone-connected")
    await webkit.click("#logout")
    await webkit.wait_for_url("/logged-out")
    await phone.wait_hung_up()


REMOVALS = {
    "webrtc": ("delete window.RTCPeerConnection; delete window.webkitRTCPeerConnection;",
               NO_WEBRTC),
    "microphone": ("delete MediaDevices.prototype.getUserMedia;", NO_MICROPHONE),
}  # fmt: skip
INSECURE_HOST = "phonebank.test"
"""A name Chromium maps to 127.0.0.1: pages from it over http are not a secure context
(only localhost and 127.0.0.1 are), as on a server deployed without https."""


@pytest.mark.parametrize("gap", sorted(REMOVALS))
async def test_the_sign_in_page_detects_what_chromium_lacks(
    app_url: str, engine: Engine, new_page: PageFactory, shot: Shot, gap: str
) -> None:
    script, sentence = REMOVALS[gap]
    page = await new_page(375, 800)
    await page.add_init_script(script)
    await page.goto(f"{app_url}/signin")
    await expect(page.get_by_label("Call using computer")).to_be_disabled()
    await expect(page.get_by_label("Call using my phone")).to_be_checked()
    await expect(page.locator("#browser-hint")).to_have_text(re.compile(f"^{re.escape(sentence)}"))
    await expect(page.locator("#browser-hint")).to_have_attribute(
        "data-unsupported", re.compile(gap)
    )
    await shot(page, f"no-{gap}")


@pytest.fixture
async def chromium_with_a_test_domain() -> AsyncIterator[Browser]:
    args = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1"]
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield chromium
        finally:
            await chromium.close()


async def test_the_sign_in_page_on_plain_http_steers_to_the_phone(
    app_url: str, engine: Engine, chromium_with_a_test_domain: Browser, shot: Shot
) -> None:
    """A real insecure page, not a faked one: http on a name other than localhost."""
    context = await chromium_with_a_test_domain.new_context(viewport={"width": 375, "height": 800})
    try:
        page = await context.new_page()
        port = urlsplit(app_url).port
        await page.goto(f"http://{INSECURE_HOST}:{port}/signin")
        assert await page.evaluate("isSecureContext") is False
        await expect(page.get_by_label("Call using computer")).to_be_disabled()
        await expect(page.get_by_label("Call using my phone")).to_be_checked()
        hint = page.locator("#browser-hint")
        await expect(hint).to_have_text(re.compile(f"^{re.escape(INSECURE)}"))
        await expect(hint).to_have_attribute("data-unsupported", re.compile("insecure"))
        await shot(page, "plain-http")
    finally:
        await context.close()


async def test_a_session_page_without_webrtc_offers_the_phone_in_chromium(
    app_url: str, engine: Engine, new_page: PageFactory, shot: Shot
) -> None:
    campaign = await make_campaign(engine, voters_csv([("10", 25)]))
    signup = await engine.volunteers.sign_up(
        "Hedy Lamarr", f"hedy-{uuid.uuid4().hex[:6]}@example.org", "+12025550143"
    )
    page = await new_page(1280, 900)
    await page.add_init_script(REMOVALS["webrtc"][0])
    await page.goto(f"{app_url}/signin")
    token = await page.evaluate(
        f"([login, password, campaign]) => ({SIGN_IN_ANYWAY})(login, password, campaign)",
        [signup.login_id, signup.password, campaign.id],
    )
    session_id = (await engine.volunteers.session_for_token(token)).id
    await page.goto(f"{app_url}/session")
    error = page.locator("#softphone-error")
    await expect(error).to_have_text(re.compile(f"^{re.escape(NO_WEBRTC)}"))
    await expect(error).to_have_attribute("data-kind", "unsupported")
    await expect(page.locator("#softphone-fallback")).to_be_visible()
    view = await engine.volunteers.view(session_id)
    await expect(page.locator("#fallback-pin")).to_have_text(view["pin"])
    await expect(page.locator("#connect-title")).to_have_text("Call in from your phone")
    await expect(page.locator("#mute")).to_be_hidden()
    await shot(page, "no-webrtc-session")
    await engine.volunteers.log_out(session_id)
