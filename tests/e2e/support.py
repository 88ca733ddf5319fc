"""Helpers for the browser tests: layout checks, the voter card's timing, and Chromium that
trusts a test CA (optionally inside a network namespace)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

from engine.app import Engine
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, CLOSE_TIMEOUT_S
from tests.helpers import wait_until

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


CADDYFILE = Path(__file__).resolve().parents[2] / "docker" / "Caddyfile"


@dataclasses.dataclass(frozen=True)
class TestCaddy:
    url: str
    """The site's https:// address."""
    ca_cert: Path
    """Caddy's internal CA root (`tls internal`)."""


@contextlib.asynccontextmanager
async def caddy_in_front(
    site: str, web: str, pbx_ws: str, workdir: Path, caddyfile: str | None = None
) -> AsyncIterator[TestCaddy]:
    """/usr/bin/caddy serving ``site`` (https://host:port) with docker/Caddyfile (or the given
    text), `tls internal`, in front of the app at ``web`` and Asterisk's /ws at ``pbx_ws``
    (host:port each); stopped on exit. Raises RuntimeError with Caddy's log when it does not
    serve within 15 s."""
    host_port = site.removeprefix("https://")
    config = workdir / "Caddyfile"
    config.write_text(caddyfile if caddyfile is not None else CADDYFILE.read_text())
    env = {
        **os.environ,
        "HOME": str(workdir),  # Caddy autosaves its config under $HOME/.config
        "PHONEBANK_SITE": site,
        "PHONEBANK_TLS": "internal",
        "PHONEBANK_WEB": web,
        "PHONEBANK_PBX_WS": pbx_ws,
        "PHONEBANK_CADDY_DATA": str(workdir / "data"),
        "PHONEBANK_HTTP_PORT": str(free_port(host_port.rsplit(":", 1)[0])),
        "PHONEBANK_HTTPS_PORT": host_port.rsplit(":", 1)[1],
    }
    log_path = workdir / "caddy.log"
    with log_path.open("wb") as out:
        command = ["/usr/bin/caddy", "run", "--config", str(config), "--adapter", "caddyfile"]
        proc = await asyncio.create_subprocess_exec(*command, env=env, stdout=out, stderr=out)
    ca_cert = workdir / "data" / "pki" / "authorities" / "local" / "root.crt"
    try:
        await wait_until(
            lambda: proc.returncode is not None or (ca_cert.exists() and _serves(host_port)),
            timeout=15,
            what=f"Caddy to serve {site}",
        )
        if proc.returncode is not None:
            raise RuntimeError(f"caddy exited: {log_path.read_text()[-2000:]}")
        yield TestCaddy(site, ca_cert)
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def free_port(address: str) -> int:
    """A TCP port nobody listens on at ``address`` right now."""
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def _serves(host_port: str) -> bool:
    host, port = host_port.rsplit(":", 1)
    with contextlib.suppress(OSError), socket.create_connection((host, int(port)), timeout=1):
        return True
    return False
