"""Bad network setups the browser softphone meets behind the TLS proxy, each told to the
volunteer in one sentence with the phone call-in offered instead: the TURN relay does not
answer (relay-only ICE), the proxy does not forward WebSockets for /ws, the proxy cannot reach
the phone server. Caddy runs docker/Caddyfile (or a variant with a fault) on loopback with
`tls internal` (testbed/proxy.py); Chromium trusts its CA.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

from playwright.async_api import Page, expect

from engine.app import Engine
from engine.pbx.ports import pick_port
from testbed.pair import PbxPair
from testbed.proxy import CADDYFILE, running_caddy
from testbed.shift import make_campaign, voters_csv
from testbed.turn import running_turn
from tests.e2e.conftest import Shot
from tests.e2e.support import chromium_trusting, engine_behind_proxy, pbx_ws
from tests.e2e.test_softphone import session_id_of, sign_in_with_computer

CLOSED_TURN_URLS = "turn:127.0.0.1:{port}?transport=udp,turn:127.0.0.1:{port}?transport=tcp"


def without_ws_route(caddyfile: str) -> str:
    """docker/Caddyfile with its /ws route removed: a proxy that sends /ws to the app."""
    variant = re.sub(r"\n\thandle /ws \{.*?\n\t\}\n", "\n", caddyfile, flags=re.S)
    assert "handle /ws" in caddyfile and "handle /ws" not in variant
    return variant


@contextlib.asynccontextmanager
async def sign_in_through(
    pair: PbxPair,
    workdir: Path,
    pbx_http: str,
    caddyfile: Path = CADDYFILE,
    turn: tuple[str, str] | None = None,
    public_url: bool = True,
) -> AsyncIterator[tuple[Page, Engine, float]]:
    """Caddy (on ``caddyfile``, /ws to ``pbx_http``) in front of an engine configured for it
    with relay-only ICE and ``turn`` (URLs, secret; by default a TURN server nobody runs: its
    UDP and TCP port are closed); Chromium trusting Caddy's CA; a volunteer signed in with
    "Call using computer". Without ``public_url`` the engine is not told about the proxy.
    Yields the page, the engine and when Sign In was clicked."""
    closed_turn = pick_port(socket.SOCK_DGRAM, what="a TURN port nobody listens on")
    turn_urls, secret = turn or (CLOSED_TURN_URLS.format(port=closed_turn), secrets.token_hex(8))
    web_port = pick_port(socket.SOCK_STREAM, what="web app")
    async with running_caddy(f"127.0.0.1:{web_port}", pbx_http, caddyfile=caddyfile) as caddy:
        settings = {
            "PHONEBANK_WEB_PUBLIC_URL": caddy.url,
            "PHONEBANK_WEB_ICE_TRANSPORT_POLICY": "relay",
            "PHONEBANK_TURN_URLS": turn_urls,
            "PHONEBANK_TURN_SECRET": secret,
        }
        if not public_url:
            settings = {}
        async with (
            engine_behind_proxy(pair, workdir / "e2e.db", web_port, settings) as engine,
            chromium_trusting(caddy.ca_cert, workdir) as browser,
        ):
            campaign = await make_campaign(engine, voters_csv([("10", 8)]))
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(20_000)
            clicked = await sign_in_with_computer(page, caddy.url, engine, campaign)
            try:
                yield page, engine, clicked
            finally:
                await engine.volunteers.log_out(await session_id_of(page))


async def expect_phone_offered(
    page: Page, engine: Engine, kind: str, sentence: str, timeout_s: float = 20
) -> None:
    error = page.locator("#softphone-error")
    await expect(error).to_contain_text(sentence, timeout=timeout_s * 1000)
    await expect(error).to_have_attribute("data-kind", kind)
    await expect(page.locator("#softphone-fallback")).to_be_visible()
    view = await engine.volunteers.view(await session_id_of(page))
    await expect(page.locator("#fallback-number")).to_have_text(view["callin_number_display"])
    await expect(page.locator("#fallback-pin")).to_have_text(view["pin"])
    await expect(page.locator("#softphone-state-text")).to_have_text(
        "Your computer's audio is not connected."
    )


async def test_an_unreachable_turn_relay_says_so_and_offers_the_phone(
    pbx_pair: PbxPair, tmp_path: Path, shot: Shot
) -> None:
    async with sign_in_through(pbx_pair, tmp_path, pbx_ws(pbx_pair)) as (page, engine, clicked):
        await expect_phone_offered(
            page, engine, "turnUnreachable", "the audio relay server does not answer"
        )
        print(f"\nTURN unreachable told {time.time() - clicked:.2f} s after Sign In")
        # Given up before ringing the PBX: the session never got a browser leg.
        session = await engine.store.get_session(await session_id_of(page))
        assert session.channel_id is None
        await shot(page, "turn-unreachable")


async def test_a_proxy_not_forwarding_websockets_says_so_and_offers_the_phone(
    pbx_pair: PbxPair, tmp_path: Path, shot: Shot
) -> None:
    broken = tmp_path / "Caddyfile-without-ws"
    broken.write_text(without_ws_route(CADDYFILE.read_text()))
    async with sign_in_through(pbx_pair, tmp_path, pbx_ws(pbx_pair), broken) as (page, engine, _):
        await expect_phone_offered(
            page,
            engine,
            "wsBlocked",
            "The calling connection is blocked: ask your coordinator to check that the proxy "
            "forwards WebSockets for /ws.",
        )
        await shot(page, "ws-blocked")


async def test_a_proxy_that_cannot_reach_the_phone_server_says_it_is_unreachable(
    pbx_pair: PbxPair, tmp_path: Path, shot: Shot
) -> None:
    nobody = f"127.0.0.1:{pick_port(socket.SOCK_STREAM, what='a closed port')}"  # Caddy: 502
    async with sign_in_through(pbx_pair, tmp_path, nobody) as (page, engine, _):
        await expect_phone_offered(
            page, engine, "unreachable", "Your computer cannot reach the phone server"
        )
        await shot(page, "pbx-unreachable")


async def test_a_relay_that_cannot_reach_the_phone_server_says_the_audio_cannot_get_through(
    pbx_pair: PbxPair, tmp_path: Path, shot: Shot
) -> None:
    """coturn answers and allocates, but may relay to no peer: ICE fails after the call."""
    secret = secrets.token_hex(16)
    no_peers = ["--denied-peer-ip=0.0.0.0-255.255.255.255"]
    async with running_turn(secret, loopback_peers=False, extra_args=no_peers) as (host, port):
        turn = (f"turn:{host}:{port}?transport=udp", secret)
        async with sign_in_through(pbx_pair, tmp_path, pbx_ws(pbx_pair), turn=turn) as (
            page,
            engine,
            clicked,
        ):
            await expect_phone_offered(
                page,
                engine,
                "iceFailed",
                "Your computer's audio cannot get through the network to the phone server",
                timeout_s=60,
            )
            print(f"\nICE failure told {time.time() - clicked:.2f} s after Sign In")
            await shot(page, "ice-failed")


async def test_a_proxy_the_app_was_not_told_about_says_the_connection_is_not_secure(
    pbx_pair: PbxPair, tmp_path: Path, shot: Shot
) -> None:
    """web.public_url unset behind the proxy: the https page gets a ws:// URL it may not open."""
    async with sign_in_through(pbx_pair, tmp_path, pbx_ws(pbx_pair), public_url=False) as (
        page,
        engine,
        _,
    ):
        await expect_phone_offered(
            page,
            engine,
            "wsInsecure",
            "The calling connection is not secure on this secure page: ask your coordinator to "
            "set the server's public address (web.public_url).",
        )
        await shot(page, "ws-insecure")
