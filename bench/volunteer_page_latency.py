"""Bridge → voter card visible in the volunteer page, in headless Chromium on the real PBX pair.

Starts its own dialer PBX and carrier simulator, the engine and the web app (free ports), and
one volunteer who signs in through the page, calls in with the PIN the page shows and takes
CALLS live-person calls by clicking (End call, a term code, "Yes, next call"). For each call it
compares the attempt's stored bridged_at with the wall-clock time the page recorded when it
painted the card (performance.timeOrigin + performance.now(), in the frame that shows it).

    .venv/bin/python bench/volunteer_page_latency.py [CALLS]
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.async_api import Page, async_playwright

from engine.app import Engine
from engine.ari.client import AriClient, AriSettings
from engine.config import load_config
from testbed.events import EventLog
from testbed.pair import PbxPair, running_pair
from testbed.phones import VolunteerPhone
from testbed.shift import make_campaign, running_engine, voters_csv
from web.app import run_web

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NEW_CARD = "prev => (document.getElementById('voter-card').dataset.attemptId || '0') !== prev"


async def next_card(page: Page, engine: Engine, previous: str) -> tuple[str, float]:
    await page.wait_for_function(NEW_CARD, arg=previous, timeout=60_000)
    card = page.locator("#voter-card")
    attempt_id = await card.get_attribute("data-attempt-id") or "0"
    shown_at = float(await card.get_attribute("data-shown-at") or 0) / 1000
    attempt = await engine.store.get_attempt(int(attempt_id))
    assert attempt.bridged_at is not None
    return attempt_id, shown_at - attempt.bridged_at.timestamp()


async def bench(pair: PbxPair, calls: int) -> list[float]:
    cfg = load_config()
    tmp = Path(tempfile.mkdtemp(prefix="phonebank-bench-"))
    spec = pair.carrier.spec
    carrier_settings = AriSettings(spec.ari_url, spec.ari_user, spec.ari_password, spec.ari_app)
    delays: list[float] = []
    async with (
        running_engine(pair, tmp / "bench.db") as engine,
        run_web(engine, dataclasses.replace(cfg.web, port=0)) as url,
        AriClient.connect(carrier_settings) as carrier_ari,
        EventLog.running(carrier_ari) as carrier_events,
        async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        campaign = await make_campaign(engine, voters_csv([("10", v) for v in range(calls)]))
        signup = await engine.volunteers.sign_up("Bench", "bench@example.org", "+12025550111")
        page = await browser.new_page()
        await page.goto(f"{url}/signin?campaign={campaign.id}")
        await page.get_by_label("Login ID").fill(signup.login_id)
        await page.get_by_label("Password").fill(signup.password)
        await page.get_by_role("button", name="Sign In").click()
        await page.wait_for_function("document.getElementById('pin').textContent.length > 0")
        pin = await page.locator("#pin").text_content() or ""
        phone = await VolunteerPhone.call_in(pair, carrier_ari, carrier_events)
        await phone.send_dtmf(pin)
        await page.get_by_role("button", name="Click here to start calling").click()
        attempt_id = "0"
        for n in range(calls):
            attempt_id, delay = await next_card(page, engine, attempt_id)
            delays.append(delay)
            await page.get_by_role("button", name="End call").click()
            await page.get_by_role("button", name="Talked to Correct Person").click()
            then = "Log out" if n == calls - 1 else "Yes, next call"
            await page.locator("#next-step").get_by_role("button", name=then).click()
        await phone.wait_hung_up()
        await browser.close()
    return delays


def main() -> None:
    calls = min(int(sys.argv[1]) if len(sys.argv) > 1 else 12, 100)
    with running_pair(load_config().pbx, f"bench-page-{os.getpid()}") as pair:
        delays = asyncio.run(bench(pair, calls))
    ms = sorted(1000 * d for d in delays)
    p95 = statistics.quantiles(ms, n=20, method="inclusive")[18] if len(ms) > 1 else ms[0]
    print(
        f"bridge -> voter card painted in the page: median {statistics.median(ms):.1f} ms, "
        f"p95 {p95:.1f} ms, max {ms[-1]:.1f} ms (n={len(ms)})"
    )


if __name__ == "__main__":
    main()
