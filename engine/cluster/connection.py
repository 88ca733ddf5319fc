"""The dedicated PostgreSQL connections of the cluster pieces (the lease lock connection, the
bus's listener and publisher): autocommit, UTC, and TCP keepalives on both ends so that a
peer lost without a FIN (a pulled cable, a frozen host) is noticed in seconds, not hours."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any, TypeVar

import psycopg
from psycopg.rows import DictRow, dict_row

Connection = psycopg.AsyncConnection[DictRow]
T = TypeVar("T")

KEEPALIVE_IDLE_S = 5
KEEPALIVE_INTERVAL_S = 2
KEEPALIVE_COUNT = 2
"""Silence for 5 s, then 2 probes 2 s apart: a dead peer is dropped after ~9 s. The server's
side matters most: it frees a lost engine's advisory locks only when it drops the session."""

CONNECT_TIMEOUT_S = 5

SERVER_OPTIONS = (
    "-c TimeZone=UTC"
    f" -c tcp_keepalives_idle={KEEPALIVE_IDLE_S}"
    f" -c tcp_keepalives_interval={KEEPALIVE_INTERVAL_S}"
    f" -c tcp_keepalives_count={KEEPALIVE_COUNT}"
)

LOST = (psycopg.OperationalError, psycopg.InterfaceError, TimeoutError, OSError)
"""What a broken or unreachable connection raises (TimeoutError: our own deadline)."""


async def connect(dsn: str, application: str) -> Connection:
    """A new autocommit connection to ``dsn`` named ``application`` in pg_stat_activity.
    Raises psycopg.OperationalError when the server cannot be reached."""
    return await psycopg.AsyncConnection.connect(
        dsn,
        autocommit=True,
        row_factory=dict_row,
        options=SERVER_OPTIONS,
        application_name=application[:63],
        connect_timeout=CONNECT_TIMEOUT_S,
        keepalives=1,
        keepalives_idle=KEEPALIVE_IDLE_S,
        keepalives_interval=KEEPALIVE_INTERVAL_S,
        keepalives_count=KEEPALIVE_COUNT,
    )


async def close_quietly(conn: Connection | None) -> None:
    """Close ``conn`` if any, ignoring that it may be broken already."""
    if conn is not None and not conn.closed:
        with contextlib.suppress(*LOST):
            await conn.close()


class Deadline:
    """Awaits database work for at most ``seconds``. At the deadline it raises TimeoutError at
    once and leaves the work to be cancelled in the background: a plain ``wait_for`` would
    wait for psycopg's cancellation, which asks the server over the network that is gone and
    can take as long again (measured: past 10 s), too late to stop driving a node in time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._stuck: set[asyncio.Future[Any]] = set()

    async def __call__(self, work: Awaitable[T]) -> T:
        task = asyncio.ensure_future(work)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.seconds)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if task in done:
            return task.result()
        task.cancel()
        self._stuck.add(task)
        task.add_done_callback(self._forget)
        raise TimeoutError(f"no answer from PostgreSQL within {self.seconds:g} s")

    def _forget(self, task: asyncio.Future[Any]) -> None:
        self._stuck.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: the connection is being replaced anyway
