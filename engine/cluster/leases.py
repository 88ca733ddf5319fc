"""Node leases: each Asterisk node is driven by exactly one engine at a time.

An engine owns a node while it holds the node's session-level advisory lock
(pg_try_advisory_lock) on its own lock connection. PostgreSQL frees a session's locks when the
session ends, so an engine that dies (kill -9, a crash, a host lost and dropped by keepalives)
loses its nodes without anyone's help, and another engine wins them on its next tick.

Fencing: the lock connection is watched between ticks (its socket is read, so a terminated
backend or a closed server is seen at once) and every query has a deadline. When it breaks, the
engine may no longer own anything: ``on_lost`` runs for every node at once, before it tries to
reconnect and win nodes again. The rules of what to take and give up are engine/cluster/plan.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.cluster import engines
from engine.cluster.connection import LOST, Connection, Deadline, close_quietly, connect
from engine.cluster.engines import STALE_AFTER_S, EngineIdentity
from engine.cluster.plan import LOCK_SPACE, Peer, Plan, lock_key, lock_keys, plan

log = logging.getLogger(__name__)

NodeCallback = Callable[[str], Awaitable[None]]
"""``on_won(node)`` starts driving a node; ``on_lost(node)`` stops at once."""


class Leases(Protocol):
    @property
    def owned(self) -> frozenset[str]: ...

    async def run(self) -> None:
        """Own nodes until cancelled; then release them (``on_lost`` for each)."""


@dataclass(frozen=True)
class LeaseSettings:
    interval_s: float = 1.0
    """How often to heartbeat and try to win free nodes."""
    stale_after_s: float = STALE_AFTER_S
    patience_s: float = 3.0
    """How long a free node another live engine prefers is left to it."""
    query_timeout_s: float = 3.0
    """A lock-connection query slower than this counts as a lost connection."""
    retry_s: float = 1.0
    """Wait between reconnection attempts."""

    def __post_init__(self) -> None:
        if self.interval_s >= self.query_timeout_s:
            raise ValueError("a lease's interval must be shorter than its query timeout")


class NodeLeases:
    """Leases on ``nodes`` for engine ``me`` over PostgreSQL at ``dsn``."""

    def __init__(
        self,
        dsn: str,
        me: EngineIdentity,
        nodes: Sequence[str],
        on_won: NodeCallback,
        on_lost: NodeCallback,
        preferred: Sequence[str] = (),
        settings: LeaseSettings = LeaseSettings(),
    ) -> None:
        """Raises ValueError for a preferred node that is not a node, or two nodes whose names
        share a lock key."""
        unknown = set(preferred) - set(nodes)
        if unknown:
            raise ValueError(f"preferred nodes {sorted(unknown)} are not among {list(nodes)}")
        self._dsn, self._me, self._nodes = dsn, me, tuple(nodes)
        self._keys = lock_keys(self._nodes)
        self._on_won, self._on_lost = on_won, on_lost
        self._preferred = frozenset(preferred)
        self._settings = settings
        self._owned: set[str] = set()
        self._free_since: dict[str, float] = {}
        self._bounded = Deadline(settings.query_timeout_s)
        self.settled = asyncio.Event()
        """Set after the first tick: the nodes free then are won (and started)."""

    @property
    def owned(self) -> frozenset[str]:
        return frozenset(self._owned)

    async def run(self) -> None:
        conn: Connection | None = None
        failures = 0
        try:
            while True:
                try:
                    conn = await connect(self._dsn, f"phonebank leases {self._me.engine_id}")
                    await self._bounded(engines.register(conn, self._me, sorted(self._preferred)))
                    log.info("leases %s: connected", self._me.engine_id)
                    failures = 0
                    await self._hold(conn)
                except LOST as error:
                    failures += 1
                    # Once per outage, then every minute or so: the database may be down long.
                    (log.warning if failures % 60 == 1 else log.debug)(
                        "leases %s: lock connection lost (%s); giving up nodes %s at once",
                        self._me.engine_id,
                        str(error).strip() or type(error).__name__,
                        sorted(self._owned),
                    )
                    await self._lose_all()
                    await close_quietly(conn)
                    conn = None
                    await asyncio.sleep(self._settings.retry_s)
        finally:
            await self._lose_all()
            await self._sign_off(conn)

    async def _hold(self, conn: Connection) -> None:
        loop = asyncio.get_running_loop()
        while True:
            step = await self._bounded(self._survey(conn, loop.time()))
            for node in step.release:
                await self._release(conn, node)
            for node in step.take:
                await self._take(conn, node)
            await self._bounded(engines.heartbeat(conn, self._me, self._owned))
            self.settled.set()
            await self._bounded(self._idle(conn))

    async def _idle(self, conn: Connection) -> None:
        """Wait one interval on the socket, not asleep: a connection that breaks raises here
        at once."""
        async for _ in conn.notifies(timeout=self._settings.interval_s):
            pass

    async def _survey(self, conn: Connection, now: float) -> Plan:
        """Read the live peers and the held node locks; give up any node whose lock we no
        longer hold; plan this tick."""
        views = engines.engine_views(await engines.read_engines(conn), self._settings.stale_after_s)
        peers = [
            Peer(view.engine_id, frozenset(view.nodes), frozenset(view.preferred))
            for view in views
            if view.alive and view.engine_id != self._me.engine_id
        ]
        cursor = await conn.execute(
            "SELECT objid::bigint AS low, pid = pg_backend_pid() AS mine FROM pg_locks"
            " WHERE locktype = 'advisory' AND classid = %s AND objsubid = 1 AND granted",
            (LOCK_SPACE,),
        )
        held, mine = set(), set()
        for row in await cursor.fetchall():
            node = self._keys.get((LOCK_SPACE << 32) | int(row["low"]))
            if node is not None:
                held.add(node)
                if row["mine"]:
                    mine.add(node)
        gone = self._owned - mine
        if gone:
            log.error("leases %s: locks of %s vanished", self._me.engine_id, sorted(gone))
            self._owned -= gone
            await self._call_lost(gone)
        for node in self._nodes:
            if node in held:
                self._free_since.pop(node, None)
            else:
                self._free_since.setdefault(node, now)
        free_for = {node: now - since for node, since in self._free_since.items()}
        return plan(
            self._nodes,
            self._owned,
            self._preferred,
            peers,
            held,
            free_for,
            self._settings.patience_s,
        )

    async def _take(self, conn: Connection, node: str) -> None:
        key = lock_key(node)
        cursor = await self._bounded(conn.execute("SELECT pg_try_advisory_lock(%s) AS won", (key,)))
        row = await self._bounded(cursor.fetchone())
        if not row or not row["won"]:
            return
        self._owned.add(node)
        log.info("leases %s: won node %s", self._me.engine_id, node)
        try:
            await self._on_won(node)
        except Exception:
            log.exception(
                "leases %s: node %s failed to start; releasing it", self._me.engine_id, node
            )
            self._owned.discard(node)
            await self._bounded(conn.execute("SELECT pg_advisory_unlock(%s)", (key,)))

    async def _release(self, conn: Connection, node: str) -> None:
        """Hand ``node`` over: stop driving it first, then free its lock."""
        log.info("leases %s: giving node %s to a less busy engine", self._me.engine_id, node)
        self._owned.discard(node)
        await self._call_lost({node})
        key = lock_key(node)
        await self._bounded(conn.execute("SELECT pg_advisory_unlock(%s)", (key,)))

    async def _lose_all(self) -> None:
        nodes, self._owned = set(self._owned), set()
        await self._call_lost(nodes)

    async def _call_lost(self, nodes: set[str]) -> None:
        """``on_lost`` for every node concurrently; a failing one is logged, the rest run."""
        results = await asyncio.gather(
            *(self._on_lost(node) for node in sorted(nodes)), return_exceptions=True
        )
        for node, result in zip(sorted(nodes), results, strict=True):
            if isinstance(result, BaseException):
                log.error("leases %s: on_lost(%s) failed: %r", self._me.engine_id, node, result)

    async def _sign_off(self, conn: Connection | None) -> None:
        """Leave cleanly: remove our row and free our locks (closing would free them too)."""
        if conn is None or conn.closed:
            return
        try:
            await self._bounded(engines.unregister(conn, self._me))
            await self._bounded(conn.execute("SELECT pg_advisory_unlock_all()"))
        except LOST:
            pass
        await close_quietly(conn)


class LocalLeases:
    """With SQLite (one engine): every node is this engine's, from start to shutdown."""

    def __init__(self, nodes: Sequence[str], on_won: NodeCallback, on_lost: NodeCallback) -> None:
        self._nodes = tuple(nodes)
        self._on_won, self._on_lost = on_won, on_lost
        self._owned: set[str] = set()

    @property
    def owned(self) -> frozenset[str]:
        return frozenset(self._owned)

    async def run(self) -> None:
        try:
            for node in self._nodes:
                self._owned.add(node)
                await self._on_won(node)
            await asyncio.Event().wait()
        finally:
            nodes, self._owned = sorted(self._owned), set()
            await asyncio.gather(*(self._on_lost(node) for node in nodes), return_exceptions=True)
