"""Several engines on one PostgreSQL, wired into a running engine (issue 16 item 4).

With a PostgreSQL store and ``[[nodes]]`` an engine does not attach every node at start:
``NodeLeases`` wins nodes (an advisory lock each) and ``on_won`` attaches the node (its
recovery adopts the live channels and bridges another engine left on it) and re-arms its
sessions' wrap-up deadlines; ``on_lost`` detaches it without hanging anything up (the new
owner reconciles the calls). ``NotifierRelay`` over ``PgBus`` carries every engine's events to
the WebSockets connected to the others; ``NodeActions`` serves the web actions other engines
forward (``RemoteCalls``) for sessions on the nodes this engine drives.

With SQLite there is one engine: engine/app.py attaches every node itself, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from engine.cluster.bus import PgBus
from engine.cluster.engines import (
    STALE_AFTER_S,
    EngineIdentity,
    EngineView,
    engine_views,
    read_engines,
)
from engine.cluster.leases import LeaseSettings, NodeLeases
from engine.cluster.relay import NotifierRelay, RelayOutbox
from engine.cluster.remote import Handler, NodeActions, RemoteCalls
from engine.models import EndReason, Session
from engine.notifier import Notifier
from engine.store.base import Store
from engine.store.postgresql.store import PostgresStore

log = logging.getLogger(__name__)

REMOTE_TIMEOUT_S = 5.0
"""How long a web action forwarded to another engine's node waits for its reply."""


class LocalNodeActions(Protocol):
    """What an engine does itself for a session on a node it drives (NodeRouter)."""

    async def end_call(self, session: Session) -> None: ...

    async def release_session(self, session: Session, reason: EndReason) -> None: ...

    async def place_preview_call(self, session: Session) -> str | None: ...

    async def release_preview(self, session: Session) -> bool: ...


def node_action_handlers(store: Store, local: LocalNodeActions) -> dict[str, Handler]:
    """The handlers NodeActions runs for another engine: each reads the session and does the
    action on this engine's node."""

    async def end_call(node: str, args: dict[str, Any]) -> dict[str, Any]:
        await local.end_call(await store.get_session(int(args["session_id"])))
        return {}

    async def release_session(node: str, args: dict[str, Any]) -> dict[str, Any]:
        session = await store.get_session(int(args["session_id"]))
        await local.release_session(session, EndReason(args["reason"]))
        return {}

    async def place_preview_call(node: str, args: dict[str, Any]) -> dict[str, Any]:
        session = await store.get_session(int(args["session_id"]))
        return {"channel_id": await local.place_preview_call(session)}

    async def release_preview(node: str, args: dict[str, Any]) -> dict[str, Any]:
        session = await store.get_session(int(args["session_id"]))
        return {"released": await local.release_preview(session)}

    return {
        "end_call": end_call,
        "release_session": release_session,
        "place_preview_call": place_preview_call,
        "release_preview": release_preview,
    }


class Remote(Protocol):
    async def call(
        self, node: str, action: str, args: Mapping[str, Any], timeout: float
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class RemoteNodes:
    """The NodeRouter's way to a session's node when another engine drives it."""

    calls: Remote
    timeout_s: float = REMOTE_TIMEOUT_S

    async def end_call(self, session: Session) -> None:
        await self.calls.call(session.node, "end_call", {"session_id": session.id}, self.timeout_s)

    async def release_session(self, session: Session, reason: EndReason) -> None:
        args = {"session_id": session.id, "reason": str(reason)}
        await self.calls.call(session.node, "release_session", args, self.timeout_s)

    async def place_preview_call(self, session: Session) -> str | None:
        args = {"session_id": session.id}
        reply = await self.calls.call(session.node, "place_preview_call", args, self.timeout_s)
        channel = reply.get("channel_id")
        return None if channel is None else str(channel)

    async def release_preview(self, session: Session) -> bool:
        args = {"session_id": session.id}
        reply = await self.calls.call(session.node, "release_preview", args, self.timeout_s)
        return bool(reply.get("released", True))


@dataclass
class Cluster:
    """This engine among the others: its identity, the nodes it owns now, the way to the
    others' nodes."""

    me: EngineIdentity
    leases: NodeLeases
    remote: RemoteNodes

    @property
    def owned(self) -> frozenset[str]:
        return self.leases.owned

    async def engines(self, store: Store) -> list[EngineView]:
        """Every engine on the database (the engines table), live ones first; none when the
        store is not PostgreSQL."""
        if not isinstance(store, PostgresStore):
            return []
        async with store.pool.connection() as conn:
            return engine_views(await read_engines(conn), STALE_AFTER_S)


@contextlib.asynccontextmanager
async def clustered(
    dsn: str,
    me: EngineIdentity,
    nodes: Sequence[str],
    notifier: Notifier,
    outbox: RelayOutbox,
    store: Store,
    local: LocalNodeActions,
    on_won: Callable[[str], Awaitable[None]],
    on_lost: Callable[[str], Awaitable[None]],
    settings: LeaseSettings | None = None,
    first_tick_s: float = 10.0,
) -> AsyncIterator[Cluster]:
    """Run the bus, the relay, the node actions (done by ``local``, this engine's
    NodeRouter) and the leases; yield once the leases have
    had their first tick (the free nodes won and attached), at most ``first_tick_s``. On
    exit the leases give up every node (``on_lost``) and the rest stops."""
    bus = PgBus(dsn, me.engine_id)
    leases = NodeLeases(dsn, me, nodes, on_won, on_lost, settings=settings or LeaseSettings())
    calls = RemoteCalls(bus)
    served = NodeActions(bus, lambda: leases.owned, node_action_handlers(store, local))
    relay = NotifierRelay(bus, notifier, outbox)
    tasks = [
        asyncio.create_task(bus.run(), name="cluster bus"),
        asyncio.create_task(relay.run(), name="notifier relay"),
        asyncio.create_task(calls.run(), name="remote calls"),
        asyncio.create_task(served.run(), name="node actions"),
    ]
    lease_task = asyncio.create_task(leases.run(), name="node leases")
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(first_tick_s):
                await leases.settled.wait()
        log.info("engine %s: owns nodes %s", me.engine_id, sorted(leases.owned))
        yield Cluster(me, leases, RemoteNodes(calls))
    finally:
        lease_task.cancel()  # gives up (detaches) every node before the rest stops
        await asyncio.gather(lease_task, return_exceptions=True)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
