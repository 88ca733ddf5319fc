"""Firefox ESR and WebKitGTK (Safari's engine) for the browser tests, both from Debian packages
and driven without downloads: Firefox through Marionette (``marionette-driver``), WebKitGTK
through Selenium and Debian's WebKitWebDriver on a private Xvfb display.

Both drivers are synchronous; `DrivenPage` runs every call in a thread (`asyncio.to_thread`)
so the engine, which shares the test's event loop, never stalls. Each browser gets a private
profile directory and free ports, and is stopped by its process group id, also when a test fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from marionette_driver.marionette import Marionette
from selenium.common.exceptions import WebDriverException
from selenium.webdriver import WebKitGTK
from selenium.webdriver.webkitgtk.options import Options as WebKitOptions
from selenium.webdriver.webkitgtk.service import Service as WebKitService

from tests.e2e.conftest import E2E_ARTIFACTS
from tests.helpers import wait_until

FIREFOX = "/usr/bin/firefox-esr"
WEBKIT_DRIVER = "/usr/bin/WebKitWebDriver"
MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
XVFB = "/usr/bin/Xvfb"
START_TIMEOUT_S = 30.0
CSS = "css selector"  # the same locator strategy name in Marionette and Selenium
WIDTH, HEIGHT = 1280, 1000

FIREFOX_PREFS = {
    "marionette.port": 0,  # a free port, written to <profile>/MarionetteActivePort
    # WebRTC as Chromium's flags set it up in conftest.py: a fake microphone (a tone), no
    # permission prompt, host candidates with real addresses (no mDNS names), sound allowed.
    "media.navigator.streams.fake": True,
    "media.navigator.permission.disabled": True,
    "media.peerconnection.ice.obfuscate_host_addresses": False,
    "media.peerconnection.ice.loopback": True,
    "media.autoplay.default": 0,
    # Nothing leaves this machine: no proxy, updates, telemetry or background checks.
    "network.proxy.type": 0,
    "app.update.disabledForTesting": True,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.safebrowsing.update.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "extensions.update.enabled": False,
}
WEBKIT_ARGS = [
    "--automation",  # WebKitWebDriver adds it only when it picks the binary itself
    "--enable-webrtc=true",
    "--enable-media-stream=true",
    "--enable-mock-capture-devices=true",
]


class DrivenPage:
    """One browser tab behind a synchronous WebDriver-like client, used with ``await``.

    Scripts are function bodies (``return …``), the same in Marionette and Selenium."""

    browser = ""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    async def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    # The four things the drivers do differently.
    def _navigate(self, url: str) -> None:
        raise NotImplementedError

    def _script(self, body: str, args: list[Any]) -> Any:
        raise NotImplementedError

    def _async_script(self, body: str, args: list[Any]) -> Any:
        raise NotImplementedError

    def _png(self) -> bytes:
        raise NotImplementedError

    async def goto(self, url: str) -> None:
        await self._call(self._navigate, url)

    async def evaluate(self, body: str, *args: Any) -> Any:
        return await self._call(self._script, body, list(args))

    async def evaluate_async(self, body: str, *args: Any) -> Any:
        """``body`` ends by calling ``arguments[arguments.length - 1](result)``."""
        return await self._call(self._async_script, body, list(args))

    async def click(self, css: str) -> None:
        """A real click (the driver's pointer), once the element is there."""
        await self.wait_for_js(VISIBLE, css, what=f"{css} to be visible")
        element = await self._call(self.driver.find_element, CSS, css)
        await self._call(element.click)

    async def fill(self, css: str, text: str) -> None:
        """Type ``text`` with the driver's keyboard into an emptied field."""
        await self.wait_for_js(VISIBLE, css, what=f"{css} to be visible")
        element = await self._call(self.driver.find_element, CSS, css)
        await self._call(element.clear)
        await self._call(element.send_keys, text)

    async def text(self, css: str) -> str:
        return str(await self.evaluate(TEXT, css))

    async def wait_for_js(
        self, body: str, *args: Any, timeout: float = 15.0, what: str = "the page"
    ) -> Any:
        """Poll the script until it returns something truthy; return that. Errors while a
        new page loads (no document yet) count as "not yet"."""
        last: list[str] = []

        async def ready() -> Any:
            try:
                return await self.evaluate(body, *args)
            except Exception as error:  # either driver's error; kept for the message
                last[:] = [f"{type(error).__name__}: {error}"]
                return None

        try:
            return await wait_until(ready, timeout=timeout, what=what, interval=0.1)
        except AssertionError as error:
            raise AssertionError(f"{error} in {self.browser} (last error: {last})") from None

    async def wait_for_text(self, css: str, pattern: str, timeout: float = 15.0) -> str:
        """Wait until the element's text matches the regular expression; return the text."""
        found = await self.wait_for_js(
            "const n = document.querySelector(arguments[0]);"
            "return n && new RegExp(arguments[1]).test(n.textContent.trim())"
            " ? n.textContent.trim() : null;",
            css,
            pattern,
            timeout=timeout,
            what=f"{css} to read /{pattern}/",
        )
        return str(found)

    async def wait_for_visible(self, css: str, timeout: float = 15.0) -> None:
        await self.wait_for_js(VISIBLE, css, timeout=timeout, what=f"{css} to be visible")

    async def wait_for_url(self, pattern: str, timeout: float = 15.0) -> None:
        await self.wait_for_js(
            "return new RegExp(arguments[0]).test(location.href)"
            " && document.readyState === 'complete';",
            pattern,
            timeout=timeout,
            what=f"the address to match /{pattern}/",
        )

    async def screenshot(self, path: Path) -> Path:
        png = await self._call(self._png)
        await asyncio.to_thread(path.write_bytes, png)
        return path


VISIBLE = """const n = document.querySelector(arguments[0]);
return !!n && n.getClientRects().length > 0 && getComputedStyle(n).visibility !== "hidden";"""
TEXT = """const n = document.querySelector(arguments[0]);
if (!n) throw new Error(`no element ${arguments[0]}`);
return n.textContent.trim();"""


class FirefoxPage(DrivenPage):
    browser = "firefox"

    def _navigate(self, url: str) -> None:
        self.driver.navigate(url)

    def _script(self, body: str, args: list[Any]) -> Any:
        # sandbox=None: run in the page itself, so its globals (window.phonebankShift) show
        return self.driver.execute_script(body, script_args=args, sandbox=None)

    def _async_script(self, body: str, args: list[Any]) -> Any:
        return self.driver.execute_async_script(body, script_args=args, sandbox=None)

    def _png(self) -> bytes:
        return bytes(self.driver.screenshot(format="binary", full=True))


class WebKitPage(DrivenPage):
    browser = "webkit"

    def _navigate(self, url: str) -> None:
        self.driver.get(url)

    def _script(self, body: str, args: list[Any]) -> Any:
        return self.driver.execute_script(body, *args)

    def _async_script(self, body: str, args: list[Any]) -> Any:
        return self.driver.execute_async_script(body, *args)

    def _png(self) -> bytes:
        return bytes(self.driver.get_screenshot_as_png())


def _stop_group(process: subprocess.Popen[Any]) -> None:
    """Stop a process started with start_new_session and everything in its group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):  # children that outlived the leader
        os.killpg(process.pid, signal.SIGKILL)


def _wait_for_file(path: Path, process: subprocess.Popen[Any], what: str) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not (path.exists() and path.read_text().strip()):
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} at start")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {START_TIMEOUT_S:.0f} s")
        time.sleep(0.05)  # a poll of a file a child process writes; not a synchronisation
    return path.read_text().strip()


@contextlib.contextmanager
def running_firefox(profile: Path) -> Iterator[Marionette]:
    """Headless Firefox ESR with a private profile; a Marionette session on a free port."""
    lines = [f"user_pref({_js(name)}, {_js(value)});" for name, value in FIREFOX_PREFS.items()]
    (profile / "user.js").write_text("\n".join(lines) + "\n")
    env = {**os.environ, "MOZ_CRASHREPORTER_DISABLE": "1", "HOME": str(profile)}
    process = subprocess.Popen(
        [FIREFOX, "--headless", "--marionette", "--no-remote", "--profile", str(profile)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        port = int(_wait_for_file(profile / "MarionetteActivePort", process, "Firefox"))
        client = Marionette(host="127.0.0.1", port=port, startup_timeout=START_TIMEOUT_S)
        client.start_session()
        client.set_window_rect(width=WIDTH, height=HEIGHT)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.delete_session()
    finally:
        _stop_group(process)


@contextlib.contextmanager
def private_display(home: Path) -> Iterator[str]:
    """An Xvfb display of our own (it picks a free number and tells us through a pipe)."""
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [
            XVFB,
            "-displayfd",
            str(write_end),
            "-screen",
            "0",
            f"{WIDTH}x{HEIGHT}x24",
            "-nolisten",
            "tcp",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(write_end,),
        start_new_session=True,
        cwd=home,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError(f"Xvfb exited with status {process.poll()} before its display")
        yield f":{number}"
    finally:
        _stop_group(process)


@contextlib.contextmanager
def running_webkit(home: Path) -> Iterator[WebKitGTK]:
    """WebKitGTK's MiniBrowser under WebKitWebDriver, on a private display, with its data
    under ``home``; WebRTC and the mock microphone switched on where the build has them."""
    with private_display(home) as display:
        env = {
            **os.environ,
            "DISPLAY": display,
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
        }
        service = WebKitService(
            executable_path=WEBKIT_DRIVER, port=0, env=env, popen_kw={"start_new_session": True}
        )
        options = WebKitOptions()
        options.binary_location = MINIBROWSER
        for arg in WEBKIT_ARGS:
            options.add_argument(arg)
        try:
            driver = WebKitGTK(options=options, service=service)
        except Exception:
            if service.process is not None:
                _stop_group(service.process)
            raise
        try:
            driver.set_window_size(WIDTH, HEIGHT)
            yield driver
        finally:
            with contextlib.suppress(WebDriverException):
                driver.quit()
            if service.process is not None:
                _stop_group(service.process)


def _js(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int) else f'"{value}"'


@contextlib.asynccontextmanager
async def threaded(manager: contextlib.AbstractContextManager[Any]) -> AsyncIterator[Any]:
    """Enter and leave a blocking context manager in a thread."""
    value = await asyncio.to_thread(manager.__enter__)
    try:
        yield value
    except BaseException as error:
        if not await asyncio.to_thread(manager.__exit__, type(error), error, error.__traceback__):
            raise
    else:
        await asyncio.to_thread(manager.__exit__, None, None, None)


@pytest.fixture(scope="module")
async def firefox() -> AsyncIterator[FirefoxPage]:
    """A headless Firefox ESR tab, one per test module."""
    with tempfile.TemporaryDirectory(prefix="pb-firefox-") as profile:
        async with threaded(running_firefox(Path(profile))) as client:
            yield FirefoxPage(client)


@pytest.fixture(scope="module")
async def webkit() -> AsyncIterator[WebKitPage]:
    """A WebKitGTK (MiniBrowser) tab on a private Xvfb display, one per test module."""
    with tempfile.TemporaryDirectory(prefix="pb-webkit-") as home:
        async with threaded(running_webkit(Path(home))) as driver:
            yield WebKitPage(driver)


BrowserShot = Callable[[DrivenPage, str], Awaitable[Path]]


@pytest.fixture
def browser_shot(request: pytest.FixtureRequest) -> BrowserShot:
    """browser_shot(page, "step") saves a PNG under build/test-artifacts/e2e/, named like
    conftest's `shot` but with the browser's name where the width goes."""
    E2E_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^\w-]+", "_", request.node.name)[:60]
    for stale in E2E_ARTIFACTS.glob(f"{test}-*.png"):
        stale.unlink()
    count = 0

    async def save(page: DrivenPage, step: str) -> Path:
        nonlocal count
        count += 1
        name = f"{test}-{count:02d}-{step}-{page.browser}.png"
        return await page.screenshot(E2E_ARTIFACTS / name)

    return save
