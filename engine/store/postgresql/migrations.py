"""Numbered schema migrations of the PostgreSQL store, applied in order and recorded in the
``migrations`` table (as in the SQLite store; the two number their migrations separately).

Append new migrations to MIGRATIONS; never edit one that has shipped. Version n is
MIGRATIONS[n - 1]. PostgreSQL's DDL is transactional: each migration runs in one transaction
together with its record, under an advisory lock, so two engines starting on one new
database cannot both apply it and a failed migration leaves no trace.
"""

from __future__ import annotations

from datetime import datetime

from engine.errors import SetupError
from engine.store.postgresql.base import Connection, fetch_one
from engine.store.postgresql.budget_schema import V6_LIVE_ANSWER_COUNTS
from engine.store.postgresql.cluster_schema import V5_CLUSTER
from engine.store.postgresql.rows import aware
from engine.store.postgresql.schema import V1_SCHEMA

V2_NODES = """
-- Issue 16: the dialer node a session's phone or browser leg lives on ('' before one is
-- chosen).
ALTER TABLE sessions ADD COLUMN node text NOT NULL DEFAULT '';
"""

V3_STREAMING_AMD = """
-- Issue 17: the engine's own streaming answering-machine detector, chosen per campaign.
ALTER TABLE campaigns ADD COLUMN amd_engine text NOT NULL DEFAULT '';  -- '': amd.engine
ALTER TABLE campaigns ADD COLUMN amd_thresholds json NOT NULL DEFAULT '{}';
ALTER TABLE campaigns ADD COLUMN early_connect boolean NOT NULL DEFAULT false;
-- Early connect put a machine through to a volunteer before it was recognised.
ALTER TABLE attempts ADD COLUMN heard_machine boolean NOT NULL DEFAULT false;
"""

V4_HALF_HOUR_GUARD = """
-- Issue 15 (the SQLite store's seventh migration): predictive pacing may also keep every half
-- hour under 5 % abandons.
ALTER TABLE campaigns ADD COLUMN half_hour_guard boolean NOT NULL DEFAULT false;
"""

MIGRATIONS: tuple[str, ...] = (
    V1_SCHEMA,
    V2_NODES,
    V3_STREAMING_AMD,
    V4_HALF_HOUR_GUARD,
    V5_CLUSTER,
    V6_LIVE_ANSWER_COUNTS,
)

LOCK_KEY = 0x70686F6E  # 'phon': the advisory lock migrations hold
"""pg_advisory_xact_lock key: one migrating engine at a time per database."""


async def migrate(
    conn: Connection,
    now: datetime,
    name: str = "the database",
    migrations: tuple[str, ...] = MIGRATIONS,
) -> list[int]:
    """Apply the migrations this database lacks, in order; return the versions applied.
    ``conn`` must be in autocommit mode (each migration is its own transaction).

    Raises SetupError if the database was written by a newer phonebank."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations "
            "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL)"
        )
    newest = await schema_version(conn)
    if newest > len(migrations):
        raise SetupError(newer_schema(name, newest, len(migrations)))
    applied = []
    for version, migration in enumerate(migrations, start=1):
        if version <= newest:
            continue
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            # Another engine may have applied it while we waited for the lock.
            done = await fetch_one(conn, "SELECT 1 FROM migrations WHERE version = %s", (version,))
            if done:
                continue
            await conn.execute(migration)  # a script: several statements, no parameters
            await conn.execute(
                "INSERT INTO migrations (version, applied_at) VALUES (%s, %s)",
                (version, aware(now)),
            )
        applied.append(version)
    return applied


async def schema_version(conn: Connection) -> int:
    """The newest migration applied to the database (0: none)."""
    row = await fetch_one(conn, "SELECT coalesce(max(version), 0) AS v FROM migrations")
    return int(row["v"]) if row else 0


def newer_schema(name: str, version: int, known: int = len(MIGRATIONS)) -> str:
    """The sentence for a database written by a newer phonebank than this one."""
    return (
        f"{name} was written by a newer phonebank (schema {version}; this one knows up to"
        f" {known}): upgrade phonebank or restore a backup."
    )
