"""Helpers for the browser tests: layout checks, the voter card's timing, Chromium that
trusts a test CA (optionally inside a network namespace), the engine behind the proxy."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import subprocess
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

from engine.app import Engine
from engine.ari.client import AriSettings
from engine.audio.sounds import SoundLibrary
from engine.config import load_config
from testbed.pair import PbxPair
from testbed.shift import SOUNDS
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, CLOSE_TIMEOUT_S
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
        engine=dataclasses.replace(cfg.engine, database=database),
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
