"""A web action on a session whose node another engine drives (engine/cluster/wiring.py): the
NodeRouter of the engine without the node sends it over the bus (RemoteNodes, RemoteCalls) to
the engine that drives the node (NodeActions with node_action_handlers), which does it there."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, cast

import pytest

from engine.cluster.bus import LocalBus
from engine.cluster.remote import NodeActions, RemoteCalls
from engine.cluster.wiring import RemoteNodes, node_action_handlers
from engine.errors import RemoteCallFailed
from engine.models import EndReason, Session
from engine.nodes.router import NodeRouter
from engine.store.base import Store
from tests.unit.test_node_router import SESSION, StandIn

ON_NODE2 = replace(SESSION, node="node2")


class Sessions:
    """The shared store, as the handlers read it."""

    async def get_session(self, session_id: int) -> Session:
        assert session_id == ON_NODE2.id
        return ON_NODE2


@contextlib.asynccontextmanager
async def two_engines(owned: set[str]) -> AsyncIterator[tuple[NodeRouter, StandIn]]:
    """Engine 1 drives node1 and forwards; engine 2 drives node2 (while it owns it) and
    serves. Yields engine 1's router and engine 2's node."""
    bus = LocalBus("engine-1")
    store = cast(Store, Sessions())
    node1, node2 = StandIn("node1"), StandIn("node2")
    here, there = NodeRouter(store), NodeRouter(store)
    here.nodes["node1"], there.nodes["node2"] = node1, node2
    calls = RemoteCalls(bus)
    here.remote = RemoteNodes(calls, timeout_s=0.5)
    served = NodeActions(bus, lambda: owned, node_action_handlers(store, there))
    tasks = [asyncio.create_task(calls.run()), asyncio.create_task(served.run())]
    await asyncio.sleep(0)
    try:
        yield here, node2
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert not node1.asked


async def test_actions_on_another_engine_s_node_are_done_by_that_engine() -> None:
    async with two_engines({"node2"}) as (router, node2):
        await router.end_call(ON_NODE2)
        await router.release_session(ON_NODE2, EndReason.LOGOUT)
        assert await router.place_preview_call(ON_NODE2) is None
        assert await router.release_preview(ON_NODE2) is True
        assert node2.asked == [
            f"end {SESSION.id}",
            f"release {SESSION.id}",
            f"preview {SESSION.id}",
        ]


async def test_a_node_nobody_drives_fails_the_action_but_not_a_release() -> None:
    async with two_engines(set()) as (router, node2):
        with pytest.raises(RemoteCallFailed):
            await router.end_call(ON_NODE2)
        await router.release_session(ON_NODE2, EndReason.LOGOUT)  # logged: the new owner
        assert node2.asked == []  # settles the legs when it recovers the node


async def test_a_session_on_a_node_attached_here_never_leaves_this_engine() -> None:
    async with two_engines({"node2"}) as (router, node2):
        here: Any = router.nodes["node1"]
        await router.end_call(replace(SESSION, node="node1"))
        assert here.asked == [f"end {SESSION.id}"] and node2.asked == []
        here.asked.clear()
