"""The volunteer's path in Firefox ESR (Debian's firefox-esr, headless, driven through
Marionette) on the real PBX pair: sign-up to log-out with the phone call-in, and "Call using
computer" with audio both ways. Firefox's fake microphone (a tone) is the volunteer's voice."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from engine.app import Engine
from engine.ari.client import AriClient
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import make_campaign, voters_csv
from tests.e2e.other_browsers import BrowserShot, FirefoxPage, browser_shot, firefox
from tests.e2e.support import volunteer_path_by_phone
from tests.e2e.test_softphone import SAMPLE_INBOUND, record_figure
from tests.helpers import wait_until
from tests.integration.test_engine_calls import heard_level

CONNECTED = "Your computer's audio is connected."
__all__ = ["browser_shot", "firefox"]  # the fixtures this module uses


async def test_a_volunteer_goes_from_sign_up_to_log_out_in_firefox(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    firefox: FirefoxPage,
    browser_shot: BrowserShot,
) -> None:
    await volunteer_path_by_phone(firefox, app_url, engine, pbx_pair, carrier, browser_shot, 21)


STATS = """const done = arguments[arguments.length - 1];
const pc = window.phonebankShift?.softphone?.peerConnection;
if (!pc) { done(null); return; }
pc.getStats().then((report) => {
  const out = {inBytes: 0, inLevel: 0, outBytes: 0, outPackets: 0, pair: null};
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") {
      out.inBytes = s.bytesReceived; out.inLevel = s.audioLevel || 0;
    }
    if (s.type === "outbound-rtp" && s.kind === "audio") {
      out.outBytes = s.bytesSent; out.outPackets = s.packetsSent;
    }
    if (s.type === "candidate-pair" && s.selected) out.pair = s.state;
  });
  done(out);
}, (error) => done(String(error)));"""
"""Firefox's getStats has no audioLevel for the microphone (media-source): what the page sends
is measured by packets here and by the voter-side recording's level."""

SPOKEN_PACKETS = 150
"""~3 s of 20 ms packets from Firefox's fake microphone (a continuous tone)."""


async def test_a_volunteer_talks_to_a_voter_through_firefox(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    firefox: FirefoxPage,
    browser_shot: BrowserShot,
) -> None:
    campaign = await make_campaign(engine, voters_csv([("10", 22)]))
    signup = await engine.volunteers.sign_up(
        "Hedy Lamarr", f"hedy-{uuid.uuid4().hex[:6]}@example.org", "+12025550143"
    )
    await carrier[0].set_global_variable("RECORD_VOTERS", "1")
    try:
        await firefox.goto(f"{app_url}/signin?campaign={campaign.id}")
        await firefox.fill("#login-id", signup.login_id)
        await firefox.fill("#password", signup.password)
        await firefox.click("input[name=audio_mode][value=browser]")
        assert await firefox.evaluate("return document.querySelector('[value=browser]').checked")
        clicked = time.time()
        await firefox.click("#signin-form button[type=submit]")
        await firefox.wait_for_text("#softphone-state-text", f"^{re.escape(CONNECTED)}$")
        connected_at = await firefox.evaluate(
            "return window.phonebankShift.softphone.marks.connected"
        )
        record_figure("firefox_signin_to_connected_s", float(connected_at) / 1000 - clicked)
        await firefox.wait_for_text("#phone-state-text", "^Connected: your computer's audio")
        await browser_shot(firefox, "connected")

        await firefox.evaluate(f"return ({SAMPLE_INBOUND})();")
        await firefox.click("#start")
        attempt_id = int(
            await firefox.wait_for_js(
                "return document.getElementById('voter-card').dataset.attemptId || null;",
                timeout=30,
                what="a voter's card",
            )
        )

        async def both_ways() -> dict[str, Any] | None:
            stats = await firefox.evaluate_async(STATS)
            flowing = stats and stats["inBytes"] > 0 and stats["outBytes"] > 0
            return stats if flowing and stats["pair"] == "succeeded" else None

        start = await wait_until(both_ways, timeout=15, what="audio both ways in getStats")
        await browser_shot(firefox, "talking")

        async def spoke() -> bool:
            stats = await firefox.evaluate_async(STATS)
            return bool(stats["outPackets"] - start["outPackets"] >= SPOKEN_PACKETS)

        await wait_until(spoke, timeout=10, what="the page to send ~3 s of its microphone")
        attempt = await engine.store.get_attempt(attempt_id)
        assert attempt.bridged_at is not None
        bridged = attempt.bridged_at.timestamp() * 1000
        samples = await firefox.evaluate("return window.inboundSamples;")
        heard = next((t for t, level in samples if t >= bridged and level > 0.01), None)
        assert heard is not None, "no inbound audio level in Firefox after the voter was bridged"
        record_figure("firefox_bridged_to_inbound_audio_s", (heard - bridged) / 1000)

        await firefox.click("#end-call")
        await firefox.click("#term-codes button[data-code=talked]")
        await firefox.click("#next-step [data-then=logout]")
        await firefox.wait_for_url("/logged-out")
    finally:
        await carrier[0].set_global_variable("RECORD_VOTERS", "0")
    saved = await engine.store.result_for_attempt(attempt_id)
    assert saved is not None and saved.term_code == "talked"
    assert await heard_level(pbx_pair, attempt.phone) > -40, "the voter did not hear Firefox"
