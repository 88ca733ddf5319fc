"""The dedicated PostgreSQL connections of the cluster pieces (the lease lock connection, the
bus's listener and publisher): autocommit, UTC, and TCP keepalives on both ends so that a
peer lost without a FIN (a pulled cable, a frozen host) is noticed in seconds, not hours."""

from __future__ import annotations

import contextlib

import psycopg
from psycopg.rows import DictRow, dict_row

Connection = psycopg.AsyncConnection[DictRow]

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
