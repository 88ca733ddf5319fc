"""Node leases on a real PostgreSQL server: engines split the nodes, a killed engine's node is
taken over within 10 s, and a broken lock connection drops every node at once."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from engine.cluster import engines
from engine.cluster.connection import Connection, connect
from engine.cluster.engines import this_engine
from engine.cluster.leases import LeaseSettings, LocalLeases, NodeLeases
from testbed.waiting import wait_until
from tests.cluster.frozen_link import frozen_link

ROOT = Path(__file__).resolve().parents[2]
FAST = LeaseSettings(interval_s=0.5, patience_s=1.0)
PRODUCTION = LeaseSettings()


@dataclass
class Nodes:
    """The nodes' drivers as the callbacks see them: who drives each node now, and whether two
    engines ever drove one node at the same time."""

    driving: dict[str, str] = field(default_factory=dict)
    lost_at: dict[tuple[str, str], float] = field(default_factory=dict)
    won_at: dict[tuple[str, str], float] = field(default_factory=dict)
    overlaps: list[str] = field(default_factory=list)

    def leases(
        self,
        dsn: str,
        engine_id: str,
        nodes: Sequence[str],
        preferred: Sequence[str] = (),
        settings: LeaseSettings = PRODUCTION,
    ) -> NodeLeases:
        async def won(node: str) -> None:
            if node in self.driving:
                self.overlaps.append(f"{engine_id} won {node} driven by {self.driving[node]}")
            self.driving[node] = engine_id
            self.won_at[engine_id, node] = time.monotonic()

        async def lost(node: str) -> None:
            if self.driving.get(node) == engine_id:
                del self.driving[node]
            self.lost_at[engine_id, node] = time.monotonic()

        me = this_engine(engine_id)
        return NodeLeases(dsn, me, nodes, won, lost, preferred=preferred, settings=settings)


@contextlib.asynccontextmanager
async def running(*leases: NodeLeases | LocalLeases) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(lease.run()) for lease in leases]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_two_engines_split_two_nodes(cluster_dsn: str) -> None:
    nodes = Nodes()
    a = nodes.leases(cluster_dsn, "a", ["n1", "n2"], settings=FAST)
    b = nodes.leases(cluster_dsn, "b", ["n1", "n2"], settings=FAST)
    async with running(a, b):
        await wait_until(
            lambda: len(a.owned) == 1 and len(b.owned) == 1, 10, "each engine to own one node"
        )
        assert a.owned | b.owned == {"n1", "n2"}
        assert nodes.driving == {node: "a" for node in a.owned} | {node: "b" for node in b.owned}
    assert nodes.overlaps == []
    assert nodes.driving == {}, "stopping an engine stops driving its nodes"


async def test_preferred_nodes_go_to_the_engine_that_prefers_them(cluster_dsn: str) -> None:
    nodes = Nodes()
    a = nodes.leases(cluster_dsn, "a", ["n1", "n2"], preferred=["n2"], settings=FAST)
    b = nodes.leases(cluster_dsn, "b", ["n1", "n2"], preferred=["n1"], settings=FAST)
    async with running(a):
        await wait_until(lambda: a.owned == {"n1", "n2"}, 10, "a alone to own both nodes")
        async with running(b):
            await wait_until(lambda: b.owned == {"n1"}, 10, "b to get the node it prefers")
            assert a.owned == {"n2"}
    assert nodes.overlaps == []


async def test_the_engines_table_shows_who_owns_what(cluster_dsn: str) -> None:
    nodes = Nodes()
    a = nodes.leases(cluster_dsn, "a", ["n1"], settings=FAST)
    async with running(a):
        await wait_until(lambda: a.owned == {"n1"}, 10, "a to own n1")
        async with await connect(cluster_dsn, "test") as conn:
            await wait_until(lambda: _views(conn), 5, "a's heartbeat with its node")
            (view,) = await _views(conn)
        assert (view.engine_id, view.alive, view.nodes) == ("a", True, ("n1",))
    async with await connect(cluster_dsn, "test") as conn:
        assert await engines.read_engines(conn) == [], "a stopped engine leaves the table"


async def _views(conn: Connection) -> list[engines.EngineView]:
    """The engines owning nodes, as the dashboard would show them."""
    views = engines.engine_views(await engines.read_engines(conn), engines.STALE_AFTER_S)
    return [view for view in views if view.nodes]


async def test_a_killed_engines_node_is_taken_over_within_10_s(cluster_dsn: str) -> None:
    holder = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "tests.cluster.lease_holder", cluster_dsn, "doomed", "n1"],
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        line = await asyncio.wait_for(holder.stdout.readline(), 20)
        assert line.decode().strip() == "won n1"
        nodes = Nodes()
        survivor = nodes.leases(cluster_dsn, "survivor", ["n1"])  # production timing
        async with running(survivor):
            await asyncio.sleep(2.5)  # ticks: the survivor must not win a node still held
            assert survivor.owned == frozenset()
            holder.kill()
            killed = time.monotonic()
            await wait_until(lambda: survivor.owned == {"n1"}, 10, "the survivor to win n1")
            takeover = nodes.won_at["survivor", "n1"] - killed
        print(f"takeover after kill -9: {takeover:.2f} s")
        assert takeover < 10
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.wait()


async def test_a_broken_lock_connection_drops_every_node_at_once(cluster_dsn: str) -> None:
    nodes = Nodes()
    a = nodes.leases(cluster_dsn, "a", ["n1", "n2"], settings=FAST)
    async with running(a):
        await wait_until(lambda: a.owned == {"n1", "n2"}, 10, "a to own both nodes")
        async with await connect(cluster_dsn, "test") as conn:
            await conn.execute(
                "SELECT pg_terminate_backend(backend_pid) FROM engines WHERE engine_id = 'a'"
            )
            cut = time.monotonic()
        await wait_until(lambda: len(nodes.lost_at) == 2, 5, "a to give up its nodes")
        lost = [nodes.lost_at["a", node] - cut for node in ("n1", "n2")]
        print(f"on_lost after the backend was terminated: {max(lost) * 1000:.0f} ms")
        assert max(lost) < 0.5 and nodes.driving == {}
        await wait_until(lambda: a.owned == {"n1", "n2"}, 10, "a to win them back")


async def test_with_sqlite_the_only_engine_owns_every_node() -> None:
    won: list[str] = []
    lost: list[str] = []

    async def on_won(node: str) -> None:
        won.append(node)

    async def on_lost(node: str) -> None:
        lost.append(node)

    local = LocalLeases(["n1", "n2"], on_won, on_lost)
    async with running(local):
        await wait_until(lambda: local.owned == {"n1", "n2"}, 2, "both nodes")
    assert won == ["n1", "n2"] and sorted(lost) == ["n1", "n2"] and local.owned == frozenset()


async def test_an_engine_cut_off_stops_driving_before_anyone_else_may_start(
    cluster_dsn: str,
) -> None:
    """A silent network (no error, no FIN): the engine gives its node up by its own deadlines
    (a tick, then a 3 s query deadline); nobody else wins it while PostgreSQL still holds the
    session, and the other engine wins it once the server drops that session (in production
    its keepalives do so after ~9 s of silence; here the test terminates it)."""
    parts = conninfo_to_dict(cluster_dsn)
    nodes = Nodes()
    async with frozen_link(str(parts["host"]), int(str(parts["port"]))) as link:
        via_link = make_conninfo(cluster_dsn, port=link.port)
        cut_off = nodes.leases(via_link, "cut-off", ["n1"])
        other = nodes.leases(cluster_dsn, "other", ["n1"])
        async with running(cut_off):
            await wait_until(lambda: cut_off.owned == {"n1"}, 10, "cut-off to own n1")
            async with running(other):
                await asyncio.sleep(1.5)
                link.freeze()
                frozen = time.monotonic()
                await wait_until(lambda: ("cut-off", "n1") in nodes.lost_at, 10, "fencing")
                fenced = nodes.lost_at["cut-off", "n1"] - frozen
                await asyncio.sleep(2)
                assert other.owned == frozenset(), "the server still holds cut-off's lock"
                async with await connect(cluster_dsn, "test") as conn:
                    await conn.execute(
                        "SELECT pg_terminate_backend(backend_pid) FROM engines"
                        " WHERE engine_id = 'cut-off'"
                    )
                await wait_until(lambda: other.owned == {"n1"}, 10, "the other engine to win")
    print(f"cut off: on_lost after {fenced:.2f} s of silence")
    assert fenced < 5 and nodes.overlaps == []


async def test_a_node_that_fails_to_start_is_released_and_tried_again(cluster_dsn: str) -> None:
    tries: list[str] = []
    lost_nodes: list[str] = []

    async def won(node: str) -> None:
        tries.append(node)
        if len(tries) == 1:
            raise RuntimeError("ARI unreachable")

    async def lost(node: str) -> None:
        lost_nodes.append(node)

    leases = NodeLeases(cluster_dsn, this_engine("a"), ["n1"], won, lost, settings=FAST)
    async with running(leases):
        await wait_until(lambda: leases.owned == {"n1"}, 10, "the second try to hold")
        assert tries == ["n1", "n1"] and lost_nodes == [], "a node never started is not lost"
    assert lost_nodes == ["n1"], "stopping gives up the node that started"
