"""Fixtures for the browser tests: the engine and web app on the real PBX pair, headless
Chromium (the Debian package, never a downloaded one), pages of a chosen size, screenshots.

Reused by every tests/e2e/test_*.py: `app_url`, `engine`, `browser`, `new_page`, `shot`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from engine.app import Engine
from engine.config import load_config
from testbed.pair import PbxPair
from testbed.shift import running_engine
from tests.conftest import ARTIFACTS
from web.app import run_web

CHROMIUM = "/usr/bin/chromium"
CLOSE_TIMEOUT_S = 30.0
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
E2E_ARTIFACTS = ARTIFACTS / "e2e"

PageFactory = Callable[..., Awaitable[Page]]
Shot = Callable[[Page, str], Awaitable[Path]]


@pytest.fixture(scope="module")
async def engine(
    pbx_pair: PbxPair, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Engine]:
    """The engine on the dialer PBX (one per module: only one may own the 'phonebank' app)."""
    async with running_engine(pbx_pair, tmp_path_factory.mktemp("e2e") / "e2e.db") as running:
        yield running


@pytest.fixture(scope="module")
async def app_url(engine: Engine) -> AsyncIterator[str]:
    """The web app's base URL, e.g. http://127.0.0.1:41234."""
    async with run_web(engine, dataclasses.replace(load_config().web, port=0)) as url:
        yield url


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def new_page(browser: Browser) -> AsyncIterator[PageFactory]:
    """new_page(width=1280, height=800, **context_options) → a page in a fresh context.

    Every dialog (alert, confirm…) is recorded in page.dialogs and dismissed.
    """
    contexts = []

    async def factory(width: int = 1280, height: int = 800, **options: Any) -> Page:
        context = await browser.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(15_000)
        dialogs: list[str] = []
        page.dialogs = dialogs  # type: ignore[attr-defined]

        async def on_dialog(dialog: Any) -> None:
            dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    yield factory
    for context in contexts:
        # A context whose page was left mid-call can keep Chromium busy; never let closing
        # it hang the whole session (pytest-timeout does not cover fixture teardown).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shot:
    """shot(page, "step") saves a full-page PNG under build/test-artifacts/e2e/."""
    E2E_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^\w-]+", "_", request.node.name)[:60]
    for stale in E2E_ARTIFACTS.glob(f"{test}-*.png"):
        stale.unlink()
    count = 0

    async def save(page: Page, step: str) -> Path:
        nonlocal count
        count += 1
        width = page.viewport_size["width"] if page.viewport_size else 0
        path = E2E_ARTIFACTS / f"{test}-{count:02d}-{step}-{width}px.png"
        await page.screenshot(path=path, full_page=True)
        return path

    return save


@pytest.fixture(scope="session")
def card_latencies() -> Iterator[list[float]]:
    """Bridge → voter card painted (seconds), collected over the session's calls."""
    found: list[float] = []
    yield found
    if found:
        E2E_ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (E2E_ARTIFACTS / "card-latency.json").write_text(json.dumps(sorted(found)))
