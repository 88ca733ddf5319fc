"""Helpers for the browser tests: layout checks, the voter card's timing, the volunteer's
phone path in browsers driven through WebDriver (Firefox, WebKitGTK), Chromium that trusts a
test CA (optionally inside a network namespace), and the engine behind the proxy."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

from engine.app import Engine
from engine.ari.client import AriClient, AriSettings
from engine.audio.sounds import SoundLibrary
from engine.config import load_config
from engine.voters.phone_display import format_phone
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.phones import VolunteerPhone
from testbed.shift import SOUNDS, make_campaign, voters_csv
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, CLOSE_TIMEOUT_S, Shot
from tests.e2e.other_browsers import DrivenPage
from web.app import run_web

WIDTHS = (375, 1280)
"""A phone and a laptop screen."""

LAYOUT_PROBLEMS = """() => {
  const doc = document.documentElement;
  const problems = [];
  if (doc.scrollWidth > doc.clientWidth) {
    problems.push(`page scrolls sideways: ${doc.scrollWidth} > ${doc.clientWidth}`);
  }
  for (const node of document.body.querySelectorAll("*")) {
    if (node.closest(".skip-link") || node.closest("[hidden]")) continue;
    const style = getComputedStyle(node);
    if (style.display === "none" || style.visibility === "hidden") continue;
    const box = node.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.right > doc.clientWidth + 0.5 || box.left < -0.5) {
      const name = `${node.tagName}#${node.id}.${node.className}`;
      problems.push(`${name} sticks out: ${box.left}..${box.right}`);
    }
    const clips = ["hidden", "clip"].includes(style.overflowX);
    if (clips && !["INPUT", "SELECT", "TEXTAREA"].includes(node.tagName)
        && node.scrollWidth > node.clientWidth + 1) {
      problems.push(`${node.tagName}#${node.id} cuts off its content`);
    }
  }
  return problems;
}"""


BROKEN_HEADER_WORDS = """() => {
  // every word of every visible table header that the browser split over two lines
  const broken = [];
  for (const th of document.querySelectorAll("th")) {
    if (th.closest("[hidden]") || !th.getClientRects().length) continue;
    const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    for (let text = walker.nextNode(); text; text = walker.nextNode()) {
      for (const word of text.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(text, word.index);
        range.setEnd(text, word.index + word[0].length);
        const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(`${th.textContent.trim()}: ${word[0]}`);
      }
    }
  }
  return broken;
}"""
"""Table headers wrap between words, never inside one (issue 14 item 9)."""


async def assert_headers_whole(page: Page) -> None:
    """No visible table header breaks a word over two lines at the page's current width."""
    broken = await page.evaluate(BROKEN_HEADER_WORDS)
    size = page.viewport_size
    assert not broken, f"{page.url} at {size}: headers broken mid-word: {broken}"


async def assert_fits(page: Page, widths: tuple[int, ...] = WIDTHS) -> None:
    """At each width the page neither scrolls sideways nor cuts anything off; the viewport
    is put back afterwards."""
    original = page.viewport_size or {"width": 1280, "height": 800}
    for width in widths:
        await page.set_viewport_size({"width": width, "height": original["height"]})
        await page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(null)))")
        problems = await page.evaluate(LAYOUT_PROBLEMS)
        assert not problems, f"{page.url} at {width}px: {problems}"
    await page.set_viewport_size(original)


async def card_latency(page: Page, engine: Engine, previous: int = 0) -> tuple[int, float]:
    """The attempt on the card and the seconds from the voter joining the bridge to the page
    painting their card; waits for a card other than attempt ``previous``."""
    await page.wait_for_function(
        "prev => (document.getElementById('voter-card').dataset.attemptId || '0') !== String(prev)",
        arg=previous,
    )
    card = page.locator("#voter-card")
    attempt_id = int(await card.get_attribute("data-attempt-id") or 0)
    shown_at = float(await card.get_attribute("data-shown-at") or 0) / 1000
    attempt = await engine.store.get_attempt(attempt_id)
    assert attempt.bridged_at is not None
    return attempt_id, shown_at - attempt.bridged_at.timestamp()


# --- The volunteer path in browsers driven through WebDriver (Firefox, WebKitGTK) ------------

ONE_QUESTION = [
    {"id": "support", "text": "Can we count on your support?", "kind": "single",
     "options": [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]},
]  # fmt: skip

SIGN_IN_ANYWAY = """(login, password, campaign) => fetch("/api/signin", {
  method: "POST", headers: {"Content-Type": "application/json"},
  body: JSON.stringify({login_id: login, password, campaign, audio_mode: "browser"}),
}).then((response) => response.json()).then((signin) => {
  sessionStorage.setItem("phonebank.token", signin.token);
  return signin.token;
})"""
"""A JavaScript function signing in with "Call using computer" the way an old page or a
bookmark would, past the sign-in page's detection; resolves to the session's token."""


async def sign_in_anyway(page: DrivenPage, login_id: str, password: str, campaign: int) -> str:
    body = (
        "const done = arguments[arguments.length - 1];"
        f"({SIGN_IN_ANYWAY})(arguments[0], arguments[1], arguments[2])"
        ".then(done, (error) => done(String(error)));"
    )
    return str(await page.evaluate_async(body, login_id, password, campaign))


async def call_in_by_phone(
    page: DrivenPage, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> VolunteerPhone:
    """The volunteer's (simulated) phone calls in and keys the PIN the page shows."""
    pin = await page.wait_for_text("#pin", r"^\d+$")
    phone = await VolunteerPhone.call_in(pbx_pair, *carrier)
    await phone.send_dtmf(pin)
    await page.wait_for_text("#phone-state-text", "^Connected")
    return phone


async def volunteer_path_by_phone(
    page: DrivenPage,
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    shot: Callable[[DrivenPage, str], Awaitable[Path]],
    variant: int,
) -> None:
    """Sign-up, sign-in, phone call-in, a live voter's card, an answer, a term code, log-out,
    by clicking and typing; then the saved result is checked in the store."""
    campaign = await make_campaign(engine, voters_csv([("10", variant)]), survey=ONE_QUESTION)
    await page.goto(app_url + "/")
    await page.click(f"a[href='/join/{campaign.id}']")
    await page.fill("#name", "Ada Lovelace")
    await page.fill("#email", f"ada-{uuid.uuid4().hex[:6]}@example.org")
    await page.fill("#phone", "+1 202 555 0100")
    await shot(page, "signup")
    await page.click("#signup-form button[type=submit]")
    login_id = await page.wait_for_text("#login-id", r"\S")
    password = await page.wait_for_text("#password", r"\S")
    await shot(page, "login")

    await page.click("#to-signin")
    await page.wait_for_url("/signin")
    await page.fill("#login-id", login_id)
    await page.fill("#password", password)
    assert await page.evaluate("return document.querySelector('#campaign').value") == str(
        campaign.id
    )
    assert await page.evaluate("return document.querySelector('[value=phone]').checked")
    await shot(page, "signin")
    await page.click("#signin-form button[type=submit]")
    await page.wait_for_url("/session")
    await page.wait_for_text("#phone-state-text", "^Waiting for your phone")
    phone = await call_in_by_phone(page, pbx_pair, carrier)
    await shot(page, "connected")

    await page.click("#start")
    attempt_id = int(
        await page.wait_for_js(
            "return document.getElementById('voter-card').dataset.attemptId || null;",
            timeout=30,
            what="a voter's card",
        )
    )
    voter = await engine.store.get_voter((await engine.store.get_attempt(attempt_id)).voter_id)
    await page.wait_for_text("#voter-name", f"^{voter.first_name} {voter.last_name}$")
    # the voter's number as people read it, in national format (issue 14): "(202) 555-0142"
    shown = await page.wait_for_js(
        "const dt = [...document.querySelectorAll('#voter-fields dt')]"
        ".find((d) => d.textContent === 'Phone');"
        "return dt ? dt.nextElementSibling.textContent : null;",
        what="the voter's phone on the card",
    )
    assert shown == format_phone(voter.phone, "US")
    assert await page.text("#script") == (f"Hi {voter.first_name}, this is Ada with the campaign.")
    await page.click("#q-support-0")
    await page.fill("#notes", "Friendly")
    await shot(page, "talking")

    await page.click("#end-call")
    await page.wait_for_visible("#wrapup")
    await page.click("#term-codes button[data-code=talked]")
    await page.wait_for_visible("#next-step")
    await shot(page, "wrapup")
    await page.click("#next-step [data-then=logout]")
    await page.wait_for_url("/logged-out")
    await page.wait_for_visible("#ended-logout")
    await shot(page, "logged-out")
    await phone.wait_hung_up()
    saved = await engine.store.result_for_attempt(attempt_id)
    assert saved is not None and saved.term_code == "talked"
    assert saved.answers == {"support": "yes"}
    assert saved.notes == "Friendly"


def trusting_home(home: Path, ca_cert: Path) -> Path:
    """A HOME whose NSS database trusts ``ca_cert`` (Chromium on Linux reads its local roots
    from $HOME/.pki/nssdb), e.g. Caddy's `tls internal` root; returns ``home``.

    certutil comes with libnss3-tools (a dependency of Debian's caddy package).
    """
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True, exist_ok=True)
    certutil = ["certutil", "-d", f"sql:{nssdb}"]
    subprocess.run([*certutil, "-N", "--empty-password"], check=True, capture_output=True)
    trust = [*certutil, "-A", "-n", "phonebank test CA", "-t", "C,,", "-i", str(ca_cert)]
    subprocess.run(trust, check=True, capture_output=True)
    return home


def chromium_in_namespace(workdir: Path, namespace: str) -> Path:
    """A script that runs Chromium inside network namespace ``namespace``; Playwright launches
    it as the browser (it talks to Chromium over a pipe, which crosses namespaces)."""
    script = workdir / f"chromium-in-{namespace}"
    script.write_text(f'#!/bin/sh\nexec ip netns exec {namespace} {CHROMIUM} "$@"\n')
    script.chmod(0o755)
    return script


@contextlib.asynccontextmanager
async def chromium_trusting(
    ca_cert: Path, workdir: Path, namespace: str | None = None, args: list[str] | None = None
) -> AsyncIterator[Browser]:
    """Headless Chromium that trusts ``ca_cert`` like an installed root (no certificate
    errors ignored), optionally inside network ``namespace``."""
    home = trusting_home(workdir / "home", ca_cert)
    executable = chromium_in_namespace(workdir, namespace) if namespace else Path(CHROMIUM)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable,
            args=CHROMIUM_ARGS if args is None else args,
            env={**os.environ, "HOME": str(home)},
        )
        try:
            yield browser
        finally:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await browser.close()


@contextlib.asynccontextmanager
async def engine_behind_proxy(
    pair: PbxPair, database: Path, web_port: int, settings: Mapping[str, str]
) -> AsyncIterator[Engine]:
    """The engine on ``pair`` and its web app on 127.0.0.1:``web_port`` (where a proxy sends
    pages), configured by ``settings`` (PHONEBANK_* names: web.public_url, [turn], ICE
    policy...) instead of this process's environment."""
    cfg = load_config(environ=settings)
    cfg = dataclasses.replace(
        cfg,
        engine=dataclasses.replace(cfg.engine, database=str(database)),
        web=dataclasses.replace(cfg.web, host="127.0.0.1", port=web_port),
    )
    spec = pair.dialer.spec
    ari = AriSettings(spec.ari_url, spec.ari_user, spec.ari_password, spec.ari_app)
    sounds = SoundLibrary(pair.dialer.runtime.host_path(SOUNDS), SOUNDS)
    async with Engine.running(cfg, ari, sounds) as engine, run_web(engine, cfg.web):
        yield engine


def pbx_ws(pair: PbxPair) -> str:
    """host:port of the dialer PBX's HTTP server, where Asterisk serves /ws."""
    return f"127.0.0.1:{pair.dialer.spec.http_port}"


async def both_widths(page: Page, shot: Shot, step: str) -> None:
    """Screenshots at 1280 px and 375 px; at both, no sideways scrolling and no table header
    broken mid-word."""
    await shot(page, step)
    await page.set_viewport_size({"width": 375, "height": 900})
    await assert_headers_whole(page)
    await shot(page, step)
    await page.set_viewport_size({"width": 1280, "height": 900})
    await assert_headers_whole(page)
    await assert_fits(page)
