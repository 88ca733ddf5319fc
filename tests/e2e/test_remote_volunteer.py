"""A remote volunteer, as on a real deployment: Chromium runs in a network namespace behind a
NAT router (testbed/remote_network.py) and reaches the server only at its "public" address,
through Caddy (docker/Caddyfile, `tls internal`, its CA trusted like an installed root) for
HTTPS and WSS, and through coturn for media: the page's ICE policy is `relay`, and the router
drops UDP to the server except to the TURN port. The volunteer signs in with "Call using
computer", takes a voter and talks; audio flows both ways through the relay.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright, expect
from playwright.async_api import Error as PlaywrightError

from engine.app import Engine
from engine.ari.client import AriClient
from engine.models import SessionState
from engine.pbx.ports import pick_port
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.proxy import running_caddy
from testbed.remote_network import RemoteNetwork, remote_network
from testbed.shift import make_campaign, voters_csv
from testbed.turn import running_turn
from tests.e2e.conftest import CHROMIUM_ARGS, Shot
from tests.e2e.support import (
    chromium_in_namespace,
    chromium_trusting,
    engine_behind_proxy,
    pbx_ws,
)
from tests.e2e.test_softphone import (
    CONNECTED,
    MIC_ENERGY,
    SAMPLE_INBOUND,
    SPOKEN_ENERGY,
    STATS,
    record_figure,
    session_id_of,
    sign_in_with_computer,
)
from tests.helpers import wait_until
from tests.integration.test_engine_calls import heard_level

# The pair of ICE candidates the page's media uses, with the local side's type.
SELECTED_PAIR = """async () => {
  const pc = window.phonebankShift?.softphone?.peerConnection;
  if (!pc) return null;
  const stats = await pc.getStats();
  let pair = null;
  stats.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId) {
      pair = stats.get(s.selectedCandidatePairId);
    }
  });
  if (!pair || pair.state !== "succeeded") return null;
  const local = stats.get(pair.localCandidateId);
  const remote = stats.get(pair.remoteCandidateId);
  return {localType: local.candidateType, localAddress: local.address,
          relayProtocol: local.relayProtocol, url: local.url,
          remoteType: remote.candidateType, remoteAddress: remote.address,
          bytesSent: pair.bytesSent, bytesReceived: pair.bytesReceived};
}"""


@dataclasses.dataclass
class RemoteSite:
    """The deployment as the remote volunteer sees it."""

    net: RemoteNetwork
    public_url: str
    """https://<server address>:<port>: Caddy."""
    ca_cert: Path
    """Caddy's internal CA root, which the volunteer's browser trusts."""
    turn_port: int
    workdir: Path


@pytest.fixture(scope="module")
async def remote_site(
    pbx_pair: PbxPair, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[RemoteSite, Engine]]:
    """The NAT'd volunteer network, coturn and Caddy on the server's address, and the engine
    and web app configured for them (public_url, relay-only ICE, per-session TURN)."""
    workdir = tmp_path_factory.mktemp("remote")
    turn_port = pick_port(socket.SOCK_DGRAM, what="TURN server")
    web_port = pick_port(socket.SOCK_STREAM, what="web app")
    secret = secrets.token_hex(16)
    with remote_network(turn_port) as net:
        server = net.server_address
        async with (
            running_turn(secret, server, port=turn_port, loopback_peers=False),
            running_caddy(f"127.0.0.1:{web_port}", pbx_ws(pbx_pair), host=server) as caddy,
        ):
            settings = {
                "PHONEBANK_WEB_PUBLIC_URL": caddy.url,
                "PHONEBANK_WEB_ICE_TRANSPORT_POLICY": "relay",
                "PHONEBANK_TURN_URLS": f"turn:{server}:{turn_port}?transport=udp",
                "PHONEBANK_TURN_SECRET": secret,
            }
            database = workdir / "remote.db"
            async with engine_behind_proxy(pbx_pair, database, web_port, settings) as engine:
                site = RemoteSite(net, caddy.url, caddy.ca_cert, turn_port, workdir)
                yield site, engine


@pytest.fixture(scope="module")
def engine(remote_site: tuple[RemoteSite, Engine]) -> Engine:
    """This module's engine is the remote site's (one per module owns the 'phonebank' app)."""
    return remote_site[1]


@pytest.fixture(scope="module")
async def remote_browser(remote_site: tuple[RemoteSite, Engine]) -> AsyncIterator[Browser]:
    site = remote_site[0]
    async with chromium_trusting(site.ca_cert, site.workdir, site.net.client_ns) as browser:
        yield browser


async def test_a_remote_volunteer_talks_through_https_wss_and_turn(
    remote_site: tuple[RemoteSite, Engine],
    remote_browser: Browser,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    shot: Shot,
) -> None:
    site, engine = remote_site
    campaign = await make_campaign(engine, voters_csv([("10", 7)]))
    context = await remote_browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(20_000)
    console: list[str] = []  # shown if the page never connects
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("requestfailed", lambda request: console.append(f"failed: {request.url}"))
    await carrier[0].set_global_variable("RECORD_VOTERS", "1")
    try:
        clicked = await sign_in_with_computer(page, site.public_url, engine, campaign)
        # The first page through NAT, TLS and a cold Chromium: allow a loaded machine time.
        try:
            await expect(page.locator("#softphone-state-text")).to_have_text(
                CONNECTED, timeout=20_000
            )
        except AssertionError as error:
            await shot(page, "not-connected")
            raise AssertionError(f"{error}\npage console: {console}") from None
        assert page.url.startswith(f"{site.public_url}/")  # served over HTTPS, CA trusted
        session_id = await session_id_of(page)
        view = await page.evaluate("window.phonebankShift.softphone.config")
        assert view["ws_url"] == f"wss://{site.public_url.removeprefix('https://')}/ws"
        assert view["ice_transport_policy"] == "relay"
        chosen = await wait_until(
            lambda: page.evaluate(SELECTED_PAIR), timeout=20, what="a selected ICE pair"
        )
        assert chosen["localType"] == "relay", chosen  # media goes through coturn
        assert chosen["url"].startswith(f"turn:{site.net.server_address}:{site.turn_port}")
        marks = await page.evaluate("window.phonebankShift.softphone.marks")
        signin_to_connected = marks["connected"] / 1000 - clicked
        signin_to_media = marks["iceConnected"] / 1000 - clicked
        record_figure("remote_signin_to_connected_s", signin_to_connected)
        record_figure("remote_signin_to_relay_media_s", signin_to_media)
        await shot(page, "connected")

        await page.evaluate(SAMPLE_INBOUND)
        await page.get_by_role("button", name="Click here to start calling").click()
        await expect(page.locator("#voter-name")).not_to_be_empty(timeout=30_000)
        session = await engine.store.get_session(session_id)
        assert session.state == SessionState.TALKING and session.attempt_id is not None

        async def both_ways() -> dict[str, Any] | None:
            stats = await page.evaluate(STATS)
            ok = stats and stats["inBytes"] > 0 and stats["outBytes"] > 0
            return stats if ok and stats["inLevel"] > 0 and stats["outLevel"] > 0 else None

        stats = await wait_until(both_ways, timeout=15, what="audio both ways in getStats")
        chosen = await page.evaluate(SELECTED_PAIR)
        assert chosen["localType"] == "relay", chosen
        assert chosen["bytesSent"] > 0 and chosen["bytesReceived"] > 0, chosen
        await shot(page, "talking")
        attempt = await engine.store.get_attempt(session.attempt_id)
        assert attempt.bridged_at is not None
        bridged = attempt.bridged_at.timestamp() * 1000
        heard = await wait_until(
            lambda: _first_heard(page, bridged), timeout=10, what="the voter in the page"
        )
        bridge_to_audio = (heard - bridged) / 1000
        record_figure("remote_bridged_to_inbound_audio_s", bridge_to_audio)
        print(
            f"\nremote volunteer: sign-in -> connected {signin_to_connected:.3f} s, "
            f"sign-in -> relay media {signin_to_media:.3f} s, "
            f"bridge -> first audio through TURN {bridge_to_audio:.3f} s; pair {chosen}"
        )
        await _talk_for_a_while(page)
        await page.get_by_role("button", name="End call").click()
        await page.get_by_role("button", name="Talked to Correct Person").click()
        await page.locator("[data-then=logout]").click()
        await page.wait_for_url("**/logged-out")
    finally:
        await carrier[0].set_global_variable("RECORD_VOTERS", "0")
        await context.close()
    assert stats["inLevel"] > 0 and stats["outLevel"] > 0
    assert await heard_level(pbx_pair, attempt.phone) > -40, "the voter did not hear the page"


async def test_without_the_test_ca_the_remote_browser_refuses_the_site(
    remote_site: tuple[RemoteSite, Engine], tmp_path: Path
) -> None:
    """The trust above is the NSS database's doing: no certificate error is ignored."""
    site = remote_site[0]
    executable = chromium_in_namespace(tmp_path, site.net.client_ns)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable,
            args=CHROMIUM_ARGS,
            env={**os.environ, "HOME": str(tmp_path)},  # an empty NSS database
        )
        try:
            page = await browser.new_page()
            with pytest.raises(PlaywrightError, match="ERR_CERT_AUTHORITY_INVALID"):
                await page.goto(f"{site.public_url}/signin")
        finally:
            await browser.close()


async def _first_heard(page: Any, bridged_ms: float) -> float | None:
    samples = await page.evaluate("window.inboundSamples")
    return next((t for t, level in samples if t >= bridged_ms and level > 0.01), None)


async def _talk_for_a_while(page: Any) -> None:
    """Let the voter hear ~3 s of the fake microphone's beeps (the recording's level)."""
    start = float(await page.evaluate(MIC_ENERGY))

    async def spoke() -> bool:
        return float(await page.evaluate(MIC_ENERGY)) - start >= SPOKEN_ENERGY

    await wait_until(spoke, timeout=10, what="the page to send ~3 s of beeps")
