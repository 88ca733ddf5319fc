"""One engine driving two dialer nodes (issue 16), each a fake ARI (tests/unit/fake_ari.py):
each node's stack is its own, sessions record their node, every request about a session
goes to its node, each node dials only for its own volunteers, and a node detached at run
time leaves the other running."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from engine.app import Engine, NodeSpec
from engine.audio.sounds import SoundLibrary
from engine.config import load_config
from engine.errors import AriUnavailable
from engine.models import Campaign, EndReason, Session, VoterStatus
from engine.nodes.runtime import NodeRuntime
from engine.store.sqlite.store import SqliteStore
from tests.helpers import wait_until
from tests.unit.fake_ari import FakeAri
from tests.unit.web_support import api_client

CSV = "first_name,phone,zip\nAnn,+12025550101,20001\nBob,+12025550102,20001\n"


@dataclass
class TwoNodes:
    engine: Engine
    fakes: dict[str, FakeAri]
    campaign: Campaign

    def node(self, name: str) -> NodeRuntime:
        return self.engine.nodes[name]

    async def signed_in(self, email: str, mode: str = "phone") -> Session:
        signup = await self.engine.volunteers.sign_up("Ada", email, "+12025550100")
        signin = await self.engine.volunteers.sign_in(
            signup.login_id, signup.password, self.campaign.id, mode, "test"
        )
        return signin.session

    async def called_in(self, email: str, node: str, channel_id: str) -> Session:
        """A volunteer whose phone's call-in reached ``node`` (its PIN accepted)."""
        session = await self.signed_in(email)
        await self.node(node).telephony.join_session(session, channel_id)
        return await self.engine.store.get_session(session.id)


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[TwoNodes]:
    store = SqliteStore.open(":memory:")
    sounds = SoundLibrary(tmp_path, PurePosixPath("/sounds"))
    cfg = load_config(environ={})
    async with FakeAri() as one, FakeAri() as two:
        specs = [
            NodeSpec("node1", one.settings(), "ws://127.0.0.1:1/ws"),
            NodeSpec("node2", two.settings(), "ws://127.0.0.1:2/ws"),
        ]
        async with Engine.running(cfg, sounds=sounds, store=store, nodes=specs) as engine:
            campaign = await engine.operators.create_campaign(
                "test",
                "Two nodes",
                dial_mode="power",
                calling_hours_start="00:00",
                calling_hours_end="24:00",
            )
            await engine.operators.import_list("test", campaign.id, io.BytesIO(CSV.encode()))
            await wait_until(
                lambda: all(n.ari.connected for n in engine.nodes.values()), 5, "both nodes"
            )
            yield TwoNodes(engine, {"node1": one, "node2": two}, campaign)
    await store.close()


async def test_each_node_has_its_own_stack_and_both_are_healthy(nodes: TwoNodes) -> None:
    node1, node2 = nodes.node("node1"), nodes.node("node2")
    assert list(nodes.engine.nodes) == ["node1", "node2"]
    assert node1.ari is not node2.ari and node1.dialer is not node2.dialer
    assert node1.telephony.softphones.ws_url == "ws://127.0.0.1:1/ws"
    assert nodes.fakes["node1"].connected_websockets == 1
    assert nodes.fakes["node2"].connected_websockets == 1
    assert nodes.engine.node_health() == {"node1": True, "node2": True}


async def test_a_call_in_belongs_to_the_node_that_delivered_it(nodes: TwoNodes) -> None:
    session = await nodes.called_in("ann@example.org", "node2", "phone-1")
    assert session.node == "node2"
    assert nodes.fakes["node2"].requests_to("POST", "/bridges")
    assert not nodes.fakes["node1"].requests_to("POST", "/bridges")


async def test_each_node_dials_only_for_its_own_volunteers(nodes: TwoNodes) -> None:
    """A ready volunteer on node2: node2 places the call (its channel id names it); node1,
    with nobody ready, places nothing."""
    session = await nodes.called_in("ann@example.org", "node2", "phone-1")
    await nodes.engine.volunteers.start_calling(session.id)
    fake1, fake2 = nodes.fakes["node1"], nodes.fakes["node2"]
    await wait_until(lambda: fake2.requests_to("POST", "/channels"), 5, "node2 to dial")
    [call] = fake2.requests_to("POST", "/channels")
    assert call.query["channelId"].startswith("node2.call-")
    assert not fake1.requests_to("POST", "/channels")


async def test_a_browser_volunteer_gets_the_healthy_node_with_fewer_channels(
    nodes: TwoNodes,
) -> None:
    await nodes.called_in("ann@example.org", "node1", "phone-1")  # node1 holds a leg
    browser = await nodes.signed_in("bob@example.org", mode="browser")
    assert (await nodes.engine.store.get_session(browser.id)).node == "node2"
    login = nodes.engine.router.browser_login(browser.id) if nodes.engine.router else None
    assert login is not None and login.ws_url == "ws://127.0.0.1:2/ws"
    assert [r for r in nodes.fakes["node2"].requests if login.endpoint in r.path]
    assert not [r for r in nodes.fakes["node1"].requests if r.method == "PUT"]


async def test_an_unhealthy_node_takes_no_browser_volunteer(nodes: TwoNodes) -> None:
    nodes.fakes["node2"].refuse_websockets = True  # it stays down
    await nodes.fakes["node2"].drop_websockets()
    await wait_until(lambda: not nodes.node("node2").ari.connected, 5, "node2 to drop")
    assert nodes.engine.node_health() == {"node1": True, "node2": False}
    browser = await nodes.signed_in("bob@example.org", mode="browser")
    assert (await nodes.engine.store.get_session(browser.id)).node == "node1"


async def test_releasing_a_session_goes_to_its_node(nodes: TwoNodes) -> None:
    """Logging out plays the goodbye on the session's node (node1), never on the other."""
    session = await nodes.called_in("ann@example.org", "node1", "phone-1")
    await nodes.engine.volunteers.log_out(session.id)
    fake1, fake2 = nodes.fakes["node1"], nodes.fakes["node2"]
    await wait_until(lambda: fake1.requests_to("POST", "/channels/phone-1/play"), 5, "goodbye")
    assert not [r for r in fake2.requests if "phone-1" in r.path]
    assert (await nodes.engine.store.get_session(session.id)).end_reason == EndReason.LOGOUT


async def test_a_detached_node_stops_and_the_other_carries_on(nodes: TwoNodes) -> None:
    session = await nodes.called_in("ann@example.org", "node1", "phone-1")
    await nodes.engine.detach("node2")
    fake2 = nodes.fakes["node2"]
    await wait_until(lambda: fake2.connected_websockets == 0, 5, "node2's events to close")
    assert list(nodes.engine.nodes) == ["node1"]
    assert nodes.engine.node_health() == {"node1": True, "node2": False}  # still configured
    await nodes.engine.volunteers.start_calling(session.id)
    fake1 = nodes.fakes["node1"]
    await wait_until(lambda: fake1.requests_to("POST", "/channels"), 5, "node1 still dials")
    assert not fake2.requests_to("POST", "/channels")


async def test_health_lists_each_node_and_is_degraded_while_one_is_down(
    nodes: TwoNodes,
) -> None:
    async with api_client(nodes.engine) as client:
        response = await client.get("/api/health")
        assert response.status == 200
        assert await response.json() == {
            "status": "ok",
            "nodes": {"node1": "healthy", "node2": "healthy"},
        }
        policy = response.headers["Content-Security-Policy"]
        assert "ws://127.0.0.1:1 ws://127.0.0.1:2" in policy  # each node's softphone socket
        nodes.fakes["node2"].refuse_websockets = True  # it stays down
        await nodes.fakes["node2"].drop_websockets()
        await wait_until(lambda: not nodes.node("node2").ari.connected, 5, "node2 to drop")
        response = await client.get("/api/health")
        assert response.status == 200
        body = await response.json()
        assert body == {"status": "degraded", "nodes": {"node1": "healthy", "node2": "unhealthy"}}
        await nodes.engine.detach("node2")
        nodes.fakes["node1"].refuse_websockets = True  # it stays down
        await nodes.fakes["node1"].drop_websockets()
        await wait_until(lambda: not nodes.node("node1").ari.connected, 5, "node1 to drop")
        response = await client.get("/api/health")
        assert response.status == 503
        assert (await response.json())["nodes"] == {"node1": "unhealthy", "node2": "unhealthy"}


async def test_a_node_going_away_tells_only_its_own_volunteers(nodes: TwoNodes) -> None:
    on1 = await nodes.called_in("ann@example.org", "node1", "phone-1")
    on2 = await nodes.called_in("bob@example.org", "node2", "phone-2")
    with (
        nodes.engine.notifier.session_events(on1.id) as first,
        nodes.engine.notifier.session_events(on2.id) as second,
    ):
        nodes.fakes["node2"].refuse_websockets = True
        await nodes.fakes["node2"].drop_websockets()

        seen: dict[int, list[str]] = {on1.id: [], on2.id: []}

        def told(session_id: int, queue: asyncio.Queue[dict[str, Any]]) -> bool:
            while not queue.empty():
                seen[session_id].append(str(queue.get_nowait().get("type")))
            return "telephony" in seen[session_id]

        await wait_until(lambda: told(on2.id, second), 5, "node2's volunteer to be told")
        assert not told(on1.id, first), seen


async def test_a_node_unreachable_at_start_is_left_out_and_shown_unhealthy(
    tmp_path: Path,
) -> None:
    store = SqliteStore.open(":memory:")
    sounds = SoundLibrary(tmp_path, PurePosixPath("/sounds"))
    async with FakeAri() as one, FakeAri() as gone:
        await gone.stop()  # nothing listens there any more
        specs = [
            NodeSpec("node1", one.settings(), "ws://127.0.0.1:1/ws"),
            NodeSpec("node2", gone.settings(), "ws://127.0.0.1:2/ws"),
        ]
        cfg = load_config(environ={})
        async with Engine.running(cfg, sounds=sounds, store=store, nodes=specs) as engine:
            assert list(engine.nodes) == ["node1"]
            await wait_until(lambda: engine.node_health()["node1"], 5, "node1")
            assert engine.node_health() == {"node1": True, "node2": False}
        with pytest.raises(AriUnavailable, match="none of the dialer nodes"):
            async with Engine.running(cfg, sounds=sounds, store=store, nodes=specs[1:]):
                pass
    await store.close()


async def test_attempts_an_earlier_run_left_that_no_node_holds_are_closed_at_start(
    tmp_path: Path,
) -> None:
    """Claimed but not placed (no channel), or on a node not attached now: closed as lost
    and their voters given back, so no voter stays claimed; node1's own is closed by its
    recovery (its channel is gone)."""
    store = SqliteStore.open(":memory:")
    sounds = SoundLibrary(tmp_path, PurePosixPath("/sounds"))
    cfg = load_config(environ={})
    async with Engine.running(cfg, store=store) as engine:
        campaign = await engine.operators.create_campaign(
            "test", "Left over", calling_hours_start="00:00", calling_hours_end="24:00"
        )
        csv = CSV + "Cy,+12025550103,20001\n"
        await engine.operators.import_list("test", campaign.id, io.BytesIO(csv.encode()))
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    claimed = await store.claim_voters(campaign.id, 3, earlier, ["America/New_York", ""], 3)
    assert len(claimed) == 3
    channels = ["node1.call-1-aa", None, "node3.call-3-cc"]
    for (_, attempt), channel in zip(claimed, channels, strict=True):
        if channel is not None:
            await store.update_attempt(attempt.id, channel_id=channel)
    async with FakeAri() as one, FakeAri() as two:
        specs = [
            NodeSpec("node1", one.settings(), "ws://127.0.0.1:1/ws"),
            NodeSpec("node2", two.settings(), "ws://127.0.0.1:2/ws"),
        ]
        async with Engine.running(cfg, sounds=sounds, store=store, nodes=specs):
            assert await store.open_attempts() == []
            counts = await store.voter_counts(campaign.id)
            assert not counts.get(VoterStatus.IN_FLIGHT), counts
    await store.close()


async def test_a_claim_whose_engine_died_before_dialing_is_closed_by_the_nodes_next_owner(
    nodes: TwoNodes,
) -> None:
    """The claim-to-call gap: an engine that claimed voters for node1 and died before
    originating left attempts with no call. The claim itself records the channel the call
    was to get, so whoever attaches node1 next (here the same engine again; in a cluster the
    engine taking over its lease) closes them and gives the voters back."""
    engine, store = nodes.engine, nodes.engine.store
    calls = engine.nodes["node1"].telephony.calls
    await engine.detach("node2")  # nobody dials the list meanwhile
    await engine.detach("node1")
    claimed = await store.claim_voters(
        nodes.campaign.id,
        2,
        datetime.now(UTC),
        ["America/New_York", ""],
        3,
        channel_name=calls.channel_name,
    )
    assert len(claimed) == 2
    for _, attempt in claimed:  # recorded with the claim, in its transaction
        assert (await store.get_attempt(attempt.id)).channel_id == attempt.channel_id
        assert attempt.channel_id is not None and attempt.channel_id.startswith("node1.call-")
    await engine.attach(NodeSpec("node1", nodes.fakes["node1"].settings(), "ws://127.0.0.1:1/ws"))
    assert await store.open_attempts() == []
    counts = await store.voter_counts(nodes.campaign.id)
    assert not counts.get(VoterStatus.IN_FLIGHT), counts


async def test_metrics_show_each_nodes_health_and_live_channels(nodes: TwoNodes) -> None:
    await nodes.called_in("ann@example.org", "node2", "phone-1")
    registry = nodes.engine.metrics.registry
    for name, channels in (("node1", 0), ("node2", 1)):
        labels = {"node": name}
        assert registry.get_sample_value("phonebank_node_healthy", labels) == 1
        assert registry.get_sample_value("phonebank_node_live_channels", labels) == channels
    assert registry.get_sample_value("phonebank_ari_connected") is None  # one per node instead
