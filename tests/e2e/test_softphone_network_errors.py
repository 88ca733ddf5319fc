"""Bad network setups the browser softphone meets behind the TLS proxy, each told to the
volunteer in one sentence with the phone call-in offered instead: the TURN relay does not
answer (relay-only ICE), the proxy does not forward WebSockets for /ws, the proxy cannot reach
the phone server. Caddy runs docker/Caddyfile (or a variant with a fault) on loopback with
`tls internal`; Chromium trusts its CA.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import secrets
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, expect

from engine.app import Engine
from engine.config import load_config
from engine.pbx.ports import pick_port
from testbed.pair import PbxPair
from testbed.shift import make_campaign, running_engine, voters_csv
from tests.e2e.conftest import Shot
from tests.e2e.support import CADDYFILE, caddy_in_front, chromium_trusting, free_port
from tests.e2e.test_softphone import session_id_of, sign_in_with_computer
from web.app import run_web

HOST = "127.0.0.1"


@dataclasses.dataclass(frozen=True)
class Site:
    public_url: str
    app: str
    """host:port of the web app behind the proxy."""
    pbx_http: str
    """host:port of the dialer PBX's HTTP server (its /ws)."""


@pytest.fixture(scope="module")
async def site(
    pbx_pair: PbxPair, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Site, Engine]]:
    """Engine and web app configured for a proxy at public_url, relay-only ICE and a TURN
    server nobody runs (its UDP and TCP port are closed); each test starts its own Caddy."""
    closed_turn = pick_port(socket.SOCK_DGRAM, what="a TURN port nobody listens on")
    public_url = f"https://{HOST}:{free_port(HOST)}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PHONEBANK_WEB_PUBLIC_URL", public_url)
        env.setenv("PHONEBANK_WEB_ICE_TRANSPORT_POLICY", "relay")
        env.setenv(
            "PHONEBANK_TURN_URLS",
            f"turn:{HOST}:{closed_turn}?transport=udp,turn:{HOST}:{closed_turn}?transport=tcp",
        )
        env.setenv("PHONEBANK_TURN_SECRET", secrets.token_hex(16))
        database = tmp_path_factory.mktemp("network-errors") / "e2e.db"
        async with (
            running_engine(pbx_pair, database) as engine,
            run_web(engine, dataclasses.replace(load_config().web, port=0)) as app_url,
        ):
            pbx_http = urlsplit(pbx_pair.dialer.spec.ari_url).netloc
            yield Site(public_url, app_url.removeprefix("http://"), pbx_http), engine


@pytest.fixture(scope="module")
def engine(site: tuple[Site, Engine]) -> Engine:
    """This module's engine (one per module owns the 'phonebank' app)."""
    return site[1]


def without_ws_route(caddyfile: str) -> str:
    """docker/Caddyfile with its /ws route removed: a proxy that sends /ws to the app."""
    route = re.compile(r"\n[^\n]*# SIP over WebSocket.*?\n\thandle /ws \{.*?\n\t\}\n", re.S)
    variant = route.sub("\n", caddyfile)
    assert "handle /ws" in caddyfile and "handle /ws" not in variant
    return variant


@contextlib.asynccontextmanager
async def sign_in_through(
    site: Site, engine: Engine, workdir: Path, pbx_ws: str, caddyfile: str | None = None
) -> AsyncIterator[tuple[Page, float]]:
    """Caddy in front (with ``caddyfile``), a trusting Chromium, a volunteer signed in with
    "Call using computer"; yields the page and when Sign In was clicked."""
    campaign = await make_campaign(engine, voters_csv([("10", 8)]))
    async with (
        caddy_in_front(site.public_url, site.app, pbx_ws, workdir, caddyfile) as caddy,
        chromium_trusting(caddy.ca_cert, workdir) as browser,
    ):
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(20_000)
        clicked = await sign_in_with_computer(page, site.public_url, engine, campaign)
        try:
            yield page, clicked
        finally:
            await engine.volunteers.log_out(await session_id_of(page))


async def expect_phone_offered(page: Page, engine: Engine, kind: str, sentence: str) -> None:
    error = page.locator("#softphone-error")
    await expect(error).to_contain_text(sentence, timeout=20_000)
    await expect(error).to_have_attribute("data-kind", kind)
    await expect(page.locator("#softphone-fallback")).to_be_visible()
    view = await engine.volunteers.view(await session_id_of(page))
    await expect(page.locator("#fallback-number")).to_have_text(view["callin_number"])
    await expect(page.locator("#fallback-pin")).to_have_text(view["pin"])
    await expect(page.locator("#softphone-state-text")).to_have_text(
        "Your computer's audio is not connected."
    )


async def test_an_unreachable_turn_relay_says_so_and_offers_the_phone(
    site: tuple[Site, Engine], tmp_path: Path, shot: Shot
) -> None:
    where, engine = site
    async with sign_in_through(where, engine, tmp_path, where.pbx_http) as (page, clicked):
        await expect_phone_offered(
            page, engine, "turnUnreachable", "the audio relay server does not answer"
        )
        print(f"\nTURN unreachable told {time.time() - clicked:.2f} s after Sign In")
        # Given up before ringing the PBX: the session never got a browser leg.
        session = await engine.store.get_session(await session_id_of(page))
        assert session.channel_id is None
        await shot(page, "turn-unreachable")


async def test_a_proxy_not_forwarding_websockets_says_so_and_offers_the_phone(
    site: tuple[Site, Engine], tmp_path: Path, shot: Shot
) -> None:
    where, engine = site
    broken = without_ws_route(CADDYFILE.read_text())
    async with sign_in_through(where, engine, tmp_path, where.pbx_http, broken) as (page, _):
        await expect_phone_offered(
            page,
            engine,
            "wsBlocked",
            "The calling connection is blocked: ask your coordinator to check that the proxy "
            "forwards WebSockets for /ws.",
        )
        await shot(page, "ws-blocked")


async def test_a_proxy_that_cannot_reach_the_phone_server_says_it_is_unreachable(
    site: tuple[Site, Engine], tmp_path: Path, shot: Shot
) -> None:
    where, engine = site
    nobody = f"{HOST}:{free_port(HOST)}"  # Caddy answers 502 for /ws
    async with sign_in_through(where, engine, tmp_path, nobody) as (page, _):
        await expect_phone_offered(
            page, engine, "unreachable", "Your computer cannot reach the phone server"
        )
        await shot(page, "pbx-unreachable")
