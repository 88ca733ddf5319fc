"""The engines table: who works on this database, since when, with which nodes (for the
dashboard and operators, and for each engine's lease planning). Rows are written by
engine/cluster/leases.py on its lock connection; times come from the server's clock, so
engines on hosts whose clocks disagree still agree on who is alive."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.cluster.connection import Connection

STALE_AFTER_S = 5.0
"""An engine whose heartbeat is older than this counts as dead even if its connection lingers."""

FORGET_AFTER_S = 600.0
"""Rows of engines dead this long are deleted."""


@dataclass(frozen=True)
class EngineIdentity:
    engine_id: str
    host: str
    pid: int


def this_engine(engine_id: str | None = None) -> EngineIdentity:
    """This process: ``engine_id`` if given, else host-pid."""
    host, pid = socket.gethostname(), os.getpid()
    return EngineIdentity(engine_id or f"{host}-{pid}", host, pid)


@dataclass(frozen=True)
class EngineView:
    """One engine as the dashboard shows it."""

    engine_id: str
    host: str
    pid: int
    alive: bool
    """Heartbeat fresh and its lock connection still open."""
    nodes: tuple[str, ...]
    preferred: tuple[str, ...]
    started_at: datetime
    heartbeat_age_s: float


def engine_views(rows: Iterable[Mapping[str, Any]], stale_after: float) -> list[EngineView]:
    """The rows of ``read_engines`` as views, live engines first, then by id. An engine is
    alive while its heartbeat is younger than ``stale_after`` and its lock connection is open
    (``connected``); a dead one owns no nodes, whatever its last heartbeat said."""
    views = []
    for row in rows:
        alive = bool(row["connected"]) and float(row["age_s"]) < stale_after
        views.append(
            EngineView(
                engine_id=row["engine_id"],
                host=row["host"],
                pid=int(row["pid"]),
                alive=alive,
                nodes=tuple(_names(row["nodes"])) if alive else (),
                preferred=tuple(_names(row["preferred"])),
                started_at=row["started_at"],
                heartbeat_age_s=round(float(row["age_s"]), 1),
            )
        )
    return sorted(views, key=lambda view: (not view.alive, view.engine_id))


def local_view(me: EngineIdentity, nodes: Iterable[str], started_at: datetime) -> EngineView:
    """With SQLite there is no engines table: the one engine, alive, owning every node."""
    names = tuple(nodes)
    return EngineView(me.engine_id, me.host, me.pid, True, names, names, started_at, 0.0)


def _names(value: Any) -> list[str]:
    """A json column: psycopg decodes it already, but accept its text too."""
    names = json.loads(value) if isinstance(value, str) else value
    return [str(name) for name in names]


async def read_engines(conn: Connection) -> list[dict[str, Any]]:
    """Every row of the engines table, with the heartbeat's age in seconds by the server's
    clock (``age_s``) and whether its lock connection is still open (``connected``)."""
    cursor = await conn.execute(
        "SELECT engine_id, host, pid, preferred, nodes, started_at,"
        " extract(epoch FROM now() - heartbeat)::float8 AS age_s,"
        " backend_pid IN (SELECT pid FROM pg_stat_activity) AS connected"
        " FROM engines"
    )
    return await cursor.fetchall()


async def register(conn: Connection, me: EngineIdentity, preferred: Sequence[str]) -> None:
    """Write this engine's row (owning nothing yet) and forget engines long dead."""
    await conn.execute(
        "INSERT INTO engines (engine_id, host, pid, backend_pid, preferred, nodes, started_at,"
        " heartbeat) VALUES (%s, %s, %s, pg_backend_pid(), %s, '[]', now(), now())"
        " ON CONFLICT (engine_id) DO UPDATE SET host = excluded.host, pid = excluded.pid,"
        " backend_pid = excluded.backend_pid, preferred = excluded.preferred, nodes = '[]',"
        " started_at = excluded.started_at, heartbeat = excluded.heartbeat",
        (me.engine_id, me.host, me.pid, json.dumps(list(preferred))),
    )
    await conn.execute(
        "DELETE FROM engines WHERE heartbeat < now() - make_interval(secs => %s)",
        (FORGET_AFTER_S,),
    )


async def heartbeat(conn: Connection, me: EngineIdentity, nodes: Iterable[str]) -> None:
    """Say this engine lives and owns ``nodes``."""
    await conn.execute(
        "UPDATE engines SET heartbeat = now(), nodes = %s WHERE engine_id = %s",
        (json.dumps(sorted(nodes)), me.engine_id),
    )


async def unregister(conn: Connection, me: EngineIdentity) -> None:
    await conn.execute("DELETE FROM engines WHERE engine_id = %s", (me.engine_id,))
