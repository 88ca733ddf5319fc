"""Shared by the tests/unit/test_store_*.py files: import rows and a ready-made campaign."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from engine.models import AudioMode, VoterDetails
from engine.store.base import Store
from engine.store.postgresql.store import PostgresStore
from engine.store.sqlite.store import SqliteStore

T0 = datetime(2024, 10, 1, 16, 0, tzinfo=UTC)
NY = "America/New_York"


def Row(phone: str, **fields: Any) -> VoterDetails:
    """A VoterInput, as engine.voters.importer produces it; in New York unless told."""
    return VoterDetails(phone=phone, **{"timezone": NY, **fields})


def phones(count: int, start: int = 0) -> list[str]:
    return [f"+1202555{n:04d}" for n in range(start, start + count)]


async def campaign_with_voters(store: Store, numbers: list[str], name: str = "Fall") -> int:
    campaign = await store.create_campaign(name)
    await store.add_voters(campaign.id, [Row(phone) for phone in numbers])
    return campaign.id


async def session_for(
    store: Store, campaign_id: int, pin: str = "1234", email: str = "ann@example.org"
) -> int:
    volunteer = await store.add_volunteer("Ann", email, "+12025550100")
    session = await store.create_session(
        volunteer.id, campaign_id, AudioMode.PHONE, pin, f"token-{pin}-{email}", T0
    )
    return session.id


async def empty_postgres_store(dsn: str) -> PostgresStore:
    """A PostgreSQL store on ``dsn`` with every table emptied and ids starting at 1 again, as
    in a new database (faster than creating one per test). DELETE with the foreign keys off
    (the server's own superuser): TRUNCATE of every table takes 100 ms, this a few."""
    store = await PostgresStore.open(dsn, pool_size=(1, 4))
    async with store.pool.connection() as conn, conn.transaction():
        cursor = await conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'migrations'"
        )
        tables = [row["tablename"] for row in await cursor.fetchall()]
        await conn.execute("SET LOCAL session_replication_role = replica")
        for table in tables:
            await conn.execute(f"DELETE FROM {table}")
        await conn.execute(
            "SELECT setval(sequence, 1, false) FROM (SELECT pg_get_serial_sequence(table_name,"
            " 'id') AS sequence FROM information_schema.columns WHERE table_schema = 'public'"
            " AND column_name = 'id' AND is_identity = 'YES') AS identities"
        )
    return store


async def execute(store: Store, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run ``sql`` (with ? placeholders) on either store's database, behind its back: for
    tests that set up a state no store method makes."""
    if isinstance(store, SqliteStore):
        return [tuple(row) for row in store.db.execute(sql, list(params)).fetchall()]
    assert isinstance(store, PostgresStore)
    async with store.pool.connection() as conn:
        cursor = await conn.execute(sql.replace("?", "%s"), list(params))
        rows = await cursor.fetchall() if cursor.description else []
        return [tuple(row.values()) for row in rows]
