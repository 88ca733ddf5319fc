"""The browser softphone ("Call using computer") in headless Chromium on the real PBX pair:
the page calls the dialer PBX over SIP-over-WebSocket with its session's own credentials, a
live voter is bridged in and audio flows both ways; after log-out those credentials are refused.
Chromium's fake microphone (a beep) stands in for the volunteer's voice."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Page, Route, async_playwright, expect

from engine.app import Engine
from engine.ari.client import AriClient
from engine.models import Campaign, SessionState
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import make_campaign, voters_csv
from tests.e2e.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CLOSE_TIMEOUT_S,
    E2E_ARTIFACTS,
    PageFactory,
    Shot,
)
from tests.helpers import wait_until
from tests.integration.test_engine_calls import heard_level

CONNECTED = "Your computer's audio is connected."
CONNECT_TIMEOUT_MS = 15_000
"""Sign-in to a connected softphone (register over WSS, call in, ICE) takes about a second;
on a CI machine running two suites at once it once took longer than Playwright's 5 s
default."""

STATS = """async () => {
  const pc = window.phonebankShift?.softphone?.peerConnection;
  if (!pc) return null;
  const out = {inBytes: 0, inLevel: 0, outBytes: 0, outLevel: 0};
  (await pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") {
      out.inBytes = s.bytesReceived; out.inLevel = s.audioLevel || 0;
    }
    if (s.type === "outbound-rtp" && s.kind === "audio") out.outBytes = s.bytesSent;
    if (s.type === "media-source" && s.kind === "audio") out.outLevel = s.audioLevel || 0;
  });
  return out;
}"""

# Samples the inbound audio level every 20 ms so the test can tell when the voter was first heard.
SAMPLE_INBOUND = """() => {
  window.inboundSamples = [];
  const sample = async () => {
    const pc = window.phonebankShift?.softphone?.peerConnection;
    if (pc) {
      (await pc.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "audio") {
          const now = performance.timeOrigin + performance.now();
          window.inboundSamples.push([now, s.audioLevel || 0]);
        }
      });
    }
    if (window.inboundSamples.length < 3000) setTimeout(sample, 20);
  };
  sample();
}"""

MIC_ENERGY = """async () => {
  let energy = 0;
  (await window.phonebankShift.softphone.peerConnection.getStats()).forEach((s) => {
    if (s.type === "media-source" && s.kind === "audio") energy = s.totalAudioEnergy;
  });
  return energy;
}"""
SPOKEN_ENERGY = 0.6
"""totalAudioEnergy of ~3 s of Chromium's fake-microphone beeps (it grows ~0.23 a second)."""

OLD_CREDENTIALS_CALL = """(sp) => new Promise((resolve) => {
  const done = (why) => { clearTimeout(timer); ua.stop(); resolve(why); };
  const timer = setTimeout(() => done("no final answer within 15 s"), 15000);
  const ua = new JsSIP.UA({
    sockets: [new JsSIP.WebSocketInterface(sp.ws_url)],
    uri: `sip:${sp.username}@${new URL(sp.ws_url).hostname}`,
    password: sp.password, register: false,
  });
  ua.on("connected", () => {
    const s = ua.call(sp.uri, {mediaConstraints: {audio: true, video: false},
                               pcConfig: {iceServers: []}});
    s.on("confirmed", () => done("confirmed"));
    s.on("failed", (e) => done(`failed: ${e.cause}`));
  });
  ua.on("disconnected", () => done("the WebSocket closed"));
  ua.start();
})"""


async def sign_in_with_computer(
    page: Page, app_url: str, engine: Engine, campaign: Campaign
) -> float:
    """Sign up through the engine, sign in through the page choosing "Call using computer";
    returns the wall-clock moment Sign In was clicked."""
    signup = await engine.volunteers.sign_up(
        "Hedy Lamarr", f"hedy-{uuid.uuid4().hex[:6]}@example.org", "+12025550143"
    )
    await page.goto(f"{app_url}/signin?campaign={campaign.id}")
    await page.get_by_label("Login ID").fill(signup.login_id)
    await page.get_by_label("Password").fill(signup.password)
    await page.get_by_label("Call using computer").check()
    clicked = time.time()
    await page.get_by_role("button", name="Sign In").click()
    return clicked


async def session_id_of(page: Page) -> int:
    return int(await page.evaluate("window.phonebankShift.view.session_id"))


def endpoint_gone(pair: PbxPair, name: str) -> bool:
    return "Unable to find object" in pair.dialer.cli(f"pjsip show endpoint {name}")


def record_figure(name: str, value: float) -> None:
    E2E_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = E2E_ARTIFACTS / "softphone-latency.json"
    figures: dict[str, list[float]] = json.loads(path.read_text()) if path.exists() else {}
    figures.setdefault(name, []).append(round(value, 3))
    path.write_text(json.dumps(figures, indent=1))


async def test_a_volunteer_talks_to_a_voter_through_the_browser(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
    shot: Shot,
) -> None:
    campaign = await make_campaign(engine, voters_csv([("10", 7), ("10", 8)]))
    page = await new_page(1280, 900)
    await carrier[0].set_global_variable("RECORD_VOTERS", "1")
    try:
        clicked = await sign_in_with_computer(page, app_url, engine, campaign)
        await expect(page.locator("#softphone-state-text")).to_have_text(
            CONNECTED, timeout=CONNECT_TIMEOUT_MS
        )
        connected_at = float(await page.evaluate("window.phonebankShift.softphone.marks.connected"))
        record_figure("signin_to_connected_s", connected_at / 1000 - clicked)
        await expect(page.locator("#phone-state-text")).to_have_text(
            "Connected: your computer's audio is on the line."
        )
        # Said once, in the audio panel: the next step's heading is what to do now.
        await expect(page.locator("#connect-title")).to_have_text("Ready to start calling")
        await expect(page.locator("#phone-state")).to_be_hidden()
        await shot(page, "connected")
        session_id = await session_id_of(page)
        view = await engine.volunteers.view(session_id)
        endpoint = view["softphone"]["username"]
        softphone = {**view["softphone"]}

        await page.evaluate(SAMPLE_INBOUND)
        await page.get_by_role("button", name="Click here to start calling").click()
        await expect(page.locator("#voter-name")).not_to_be_empty(timeout=30_000)
        session = await engine.store.get_session(session_id)
        assert session.state == SessionState.TALKING

        async def both_ways() -> dict[str, Any] | None:
            stats = await page.evaluate(STATS)
            ok = stats and stats["inBytes"] > 0 and stats["outBytes"] > 0
            return stats if ok and stats["inLevel"] > 0 and stats["outLevel"] > 0 else None

        stats = await wait_until(both_ways, timeout=15, what="audio both ways in getStats")
        await shot(page, "talking")
        start = await page.evaluate(MIC_ENERGY)
        await wait_until(  # the conversation: the voter hears a few of the fake mic's beeps
            lambda: _spoke(page, start), timeout=10, what="the page to send ~3 s of beeps"
        )
        assert session.attempt_id is not None
        attempt = await engine.store.get_attempt(session.attempt_id)
        assert attempt.bridged_at is not None
        bridged = attempt.bridged_at.timestamp() * 1000
        samples = await page.evaluate("window.inboundSamples")
        heard = next((t for t, level in samples if t >= bridged and level > 0.01), None)
        assert heard is not None, "no inbound audio in the page after the voter was bridged"
        record_figure("bridged_to_inbound_audio_s", (heard - bridged) / 1000)

        first_voter = await page.locator("#voter-name").text_content()
        await page.get_by_role("button", name="End call").click()
        await page.get_by_role("button", name="Talked to Correct Person").click()
        await page.locator("[data-then=ready]").click()
        # The next call comes through the same browser audio leg.
        await expect(page.locator("#voter-name")).not_to_have_text(
            first_voter or "", timeout=30_000
        )
        await expect(page.locator("#softphone-state-text")).to_have_text(
            CONNECTED, timeout=CONNECT_TIMEOUT_MS
        )
        await page.get_by_role("button", name="End call").click()
        await page.get_by_role("button", name="Talked to Correct Person").click()
        await page.locator("[data-then=logout]").click()
        await page.wait_for_url("**/logged-out")
    finally:
        await carrier[0].set_global_variable("RECORD_VOTERS", "0")

    assert await heard_level(pbx_pair, attempt.phone) > -40, "the voter did not hear the page"
    assert stats["inLevel"] > 0 and stats["outLevel"] > 0
    await wait_until(lambda: endpoint_gone(pbx_pair, endpoint), timeout=30, what="endpoint gone")
    await page.goto(f"{app_url}/signin")
    await page.add_script_tag(url=f"{app_url}/static/vendor/jssip.min.js")
    result = await page.evaluate(OLD_CREDENTIALS_CALL, softphone)
    assert result == "failed: Authentication Error", result  # "No matching endpoint found"


@pytest.fixture
async def browser_without_fake_ui() -> AsyncIterator[Any]:
    """Chromium with a fake microphone but a real permission prompt (which Playwright denies)."""
    args = [a for a in CHROMIUM_ARGS if a != "--use-fake-ui-for-media-stream"]
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield chromium
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await chromium.close()


async def test_a_denied_microphone_says_so_and_offers_the_phone(
    app_url: str, engine: Engine, pbx_pair: PbxPair, browser_without_fake_ui: Any, shot: Shot
) -> None:
    campaign = await make_campaign(engine, voters_csv([("10", 8)]))
    context = await browser_without_fake_ui.new_context()
    page = await context.new_page()
    page.set_default_timeout(15_000)
    try:
        await sign_in_with_computer(page, app_url, engine, campaign)
        error = page.locator("#softphone-error")
        await expect(error).to_contain_text("blocked the microphone")
        await expect(error).to_have_attribute("data-kind", "denied")
        await expect(page.locator("#softphone-fallback")).to_be_visible()
        view = await engine.volunteers.view(await session_id_of(page))
        await expect(page.locator("#fallback-number")).to_have_text(view["callin_number_display"])
        await expect(page.locator("#fallback-pin")).to_have_text(view["pin"])
        await expect(page.locator("#connect-title")).to_have_text("Call in from your phone")
        await shot(page, "denied")
        await engine.volunteers.log_out(view["session_id"])
    finally:
        # Closing a context whose page was refused the microphone hung Chromium once in many
        # runs under load (until pytest's 300 s timeout): bounded like conftest's contexts.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await context.close()


async def test_an_unreachable_phone_server_says_so_and_offers_the_phone(
    app_url: str, engine: Engine, pbx_pair: PbxPair, new_page: PageFactory, shot: Shot
) -> None:
    campaign = await make_campaign(engine, voters_csv([("10", 9)]))
    page = await new_page(1280, 900)

    async def closed_port(route: Route) -> None:
        response = await route.fetch()
        view = await response.json()
        # The phone server's own origin (the page's Content-Security-Policy allows only that
        # one) but a path where no SIP WebSocket answers: the handshake fails.
        view["softphone"]["ws_url"] = view["softphone"]["ws_url"].replace("/ws", "/no-ws")
        await route.fulfill(response=response, json=view)

    await page.route("**/api/session", closed_port)
    await sign_in_with_computer(page, app_url, engine, campaign)
    error = page.locator("#softphone-error")
    await expect(error).to_contain_text("cannot reach the phone server")
    await expect(page.locator("#softphone-fallback")).to_be_visible()
    await shot(page, "unreachable")
    await engine.volunteers.log_out(await session_id_of(page))


async def test_a_dropped_call_reconnects_once_then_offers_the_phone(
    app_url: str, engine: Engine, pbx_pair: PbxPair, new_page: PageFactory, shot: Shot
) -> None:
    campaign = await make_campaign(engine, voters_csv([("10", 10)]))
    page = await new_page(1280, 900)
    await sign_in_with_computer(page, app_url, engine, campaign)
    await expect(page.locator("#softphone-state-text")).to_have_text(
        CONNECTED, timeout=CONNECT_TIMEOUT_MS
    )
    session_id = await session_id_of(page)
    telephony = engine.telephony
    assert telephony is not None

    async def drop(previous: str | None) -> str:
        """Hang up the page's leg (a newer one than ``previous``) from the PBX side."""
        session = await wait_until(
            lambda: _connected_session(engine, session_id, previous), timeout=10, what="a leg"
        )
        await telephony.ari.hangup(session.channel_id)
        return str(session.channel_id)

    first = await drop(None)
    await drop(first)  # the page called back in by itself; this second drop is final
    await expect(page.locator("#softphone-error")).to_contain_text("reconnecting failed")
    await expect(page.locator("#softphone-fallback")).to_be_visible()
    await shot(page, "dropped")
    await engine.volunteers.log_out(session_id)


async def _spoke(page: Page, start: float) -> bool:
    return float(await page.evaluate(MIC_ENERGY)) - start >= SPOKEN_ENERGY


async def _connected_session(engine: Engine, session_id: int, previous: str | None) -> Any:
    session = await engine.store.get_session(session_id)
    joined = session.channel_id not in (None, previous)
    return session if joined and session.state == SessionState.CONNECTED else None
