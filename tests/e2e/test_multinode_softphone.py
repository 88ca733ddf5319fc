"""Browser softphones on two dialer nodes through the front proxy (issue 16, item 3): headless
Chromium, trusting Caddy's CA like an installed root, signs two volunteers in with "Call using
computer"; each session is placed on its own node, its page's softphone reaches that node's
Asterisk at wss://<proxy>/<node>/ws (the routes `phonebank proxy-routes` writes, imported by
docker/Caddyfile), and a live voter dialed through Kamailio is put through to each, audio
both ways.

The bed is test_multinode_shift's (Kamailio, two dialer nodes, a carrier behind Kamailio); the
engine reads its nodes from ``[[nodes]]`` as `phonebank run` does (engine.nodes.runtime
.node_specs), with web.public_url the proxy's address and no ws_url of their own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from engine.app import Engine
from engine.config import Config, load_config
from engine.config.sections import NodeConfig
from engine.models import Session, SessionState
from engine.nodes.proxy_routes import caddy_routes
from engine.nodes.runtime import node_specs
from engine.pbx.ports import pick_port
from testbed.proxy import RunningCaddy, running_caddy
from testbed.shift import make_campaign, voters_csv
from tests.e2e.conftest import Shot
from tests.e2e.support import chromium_trusting
from tests.e2e.test_softphone import (
    CONNECT_TIMEOUT_MS,
    CONNECTED,
    STATS,
    session_id_of,
    sign_in_with_computer,
)
from tests.helpers import wait_until
from tests.integration.test_engine_takeover import sounds_of
from tests.integration.test_multinode_shift import (  # noqa: F401 (fixtures)
    NODES,
    Bed,
    bed,
)
from web.app import run_web


def nodes_of(where: Bed) -> tuple[NodeConfig, ...]:
    """The bed's nodes as an operator lists them in [[nodes]] (no ws_url: behind the proxy)."""
    return tuple(
        NodeConfig(
            name,
            node.dialer.spec.ari_url,
            node.dialer.spec.ari_user,
            node.dialer.spec.ari_password,
            f"127.0.0.1:{node.dialer.spec.sip_port}",
        )
        for name, node in where.nodes.items()
    )


@dataclasses.dataclass(frozen=True)
class Site:
    engine: Engine
    caddy: RunningCaddy
    url: str


@pytest.fixture
async def site(bed: Bed, postgres_dsn: str) -> AsyncIterator[Site]:  # noqa: F811
    nodes = nodes_of(bed)
    web_port = pick_port(socket.SOCK_STREAM, what="web app")
    first = next(iter(bed.nodes.values())).dialer.spec
    async with running_caddy(
        f"127.0.0.1:{web_port}", f"127.0.0.1:{first.http_port}", node_routes=caddy_routes(nodes)
    ) as caddy:
        base = load_config(environ={})
        cfg: Config = dataclasses.replace(
            base,
            engine=dataclasses.replace(base.engine, database=postgres_dsn),
            web=dataclasses.replace(
                base.web, host="127.0.0.1", port=web_port, public_url=caddy.url
            ),
            nodes=nodes,
        )
        async with (
            Engine.running(cfg, sounds=sounds_of(bed), nodes=node_specs(cfg)) as engine,
            run_web(engine, cfg.web),
        ):
            # A node takes browser volunteers once healthy: ARI events connected and its
            # trunk to Kamailio qualified (a few seconds after start).
            await wait_until(
                lambda: all(engine.node_health().values()), 30, "both nodes to be healthy"
            )
            yield Site(engine, caddy, caddy.url)


@pytest.fixture
async def trusting_browser(site: Site, tmp_path: Path) -> AsyncIterator[Browser]:
    async with chromium_trusting(site.caddy.ca_cert, tmp_path) as browser:
        yield browser


async def with_channel(engine: Engine, session_id: int) -> Session | None:
    session = await engine.store.get_session(session_id)
    return session if session.channel_id is not None else None


async def both_ways(page: Page) -> dict[str, Any] | None:
    stats = await page.evaluate(STATS)
    ok = stats and stats["inBytes"] > 0 and stats["outBytes"] > 0
    return stats if ok and stats["inLevel"] > 0 and stats["outLevel"] > 0 else None


async def test_browser_volunteers_on_two_nodes_talk_through_the_proxy(
    site: Site, trusting_browser: Browser, shot: Shot
) -> None:
    engine = site.engine
    campaign = await make_campaign(engine, voters_csv([("10", 40 + v) for v in range(4)]))
    pages: list[Page] = []
    sessions: list[int] = []
    try:
        for _ in NODES:  # one after the other: each joins the node with fewer channels
            context = await trusting_browser.new_context(viewport={"width": 1280, "height": 900})
            page = await context.new_page()
            page.set_default_timeout(20_000)
            pages.append(page)
            await sign_in_with_computer(page, site.url, engine, campaign)
            await expect(page.locator("#softphone-state-text")).to_have_text(
                CONNECTED, timeout=CONNECT_TIMEOUT_MS
            )
            sessions.append(await session_id_of(page))

        # The page says connected as its call is answered; the session records the call's
        # channel a moment later.
        placed = [
            await wait_until(
                functools.partial(with_channel, engine, s), 10, "the session's channel"
            )
            for s in sessions
        ]
        assert sorted(s.node or "" for s in placed) == sorted(NODES)  # one on each node
        proxy = f"wss://127.0.0.1:{site.caddy.https_port}"
        for session in placed:
            view = await engine.volunteers.view(session.id)
            assert view["softphone"]["ws_url"] == f"{proxy}/{session.node}/ws"
            # The page's call is a channel on its own node, in its session's bridge.
            assert session.node is not None and session.channel_id is not None
            channels = await engine.nodes[session.node].ari.list_channels()
            assert session.channel_id in {c["id"] for c in channels}

        for page in pages:
            await page.get_by_role("button", name="Click here to start calling").click()
        for index, page in enumerate(pages):
            await expect(page.locator("#voter-name")).not_to_be_empty(timeout=40_000)
            await wait_until(functools.partial(both_ways, page), 15, "audio both ways")
            await shot(page, f"talking-on-{placed[index].node}")
        for session_id in sessions:
            session = await engine.store.get_session(session_id)
            assert session.state == SessionState.TALKING and session.attempt_id is not None
            attempt = await engine.store.get_attempt(session.attempt_id)
            assert attempt.bridged_at is not None
            assert attempt.channel_id is not None
            assert attempt.channel_id.startswith(f"{session.node}.")  # dialed by its node

        for page in pages:
            await page.get_by_role("button", name="End call").click()
            await page.get_by_role("button", name="Talked to Correct Person").click()
            await page.locator("[data-then=logout]").click()
            await page.wait_for_url("**/logged-out")
    finally:
        for page in pages:
            with contextlib.suppress(Exception):
                await page.context.close()
