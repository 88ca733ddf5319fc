"""What only the PostgreSQL store has to show: its migrations, opening errors, and claims that
lock (FOR UPDATE SKIP LOCKED) so engines sharing one database never dial a voter twice. The
contract every store keeps is in the other tests/unit/test_store*.py modules."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator

import psycopg
import pytest

from engine.errors import SetupError
from engine.pbx.ports import pick_port
from engine.store.postgresql.migrations import MIGRATIONS, migrate
from engine.store.postgresql.store import PostgresStore
from testbed.postgres import PostgresServer
from tests.unit.store_helpers import (
    NY,
    T0,
    Row,
    campaign_with_voters,
    empty_postgres_store,
    phones,
    session_for,
)

_names = itertools.count(1)


@pytest.fixture
def new_dsn(postgres_server: PostgresServer) -> str:
    """A database of its own, empty: no tables at all."""
    return postgres_server.create_database(f"fresh{next(_names)}")


@pytest.fixture
async def store(postgres_dsn: str) -> AsyncIterator[PostgresStore]:
    store = await empty_postgres_store(postgres_dsn)
    yield store
    await store.close()


async def versions(dsn: str) -> list[int]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute("SELECT version FROM migrations ORDER BY version")
        return [row[0] for row in await cursor.fetchall()]


async def tables(dsn: str) -> set[str]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in await cursor.fetchall()}


# --- opening and migrations ----------------------------------------------------------------


async def test_opening_a_new_database_applies_every_migration(new_dsn: str) -> None:
    await (await PostgresStore.open(new_dsn)).close()
    assert await versions(new_dsn) == list(range(1, len(MIGRATIONS) + 1))
    assert {"campaigns", "voters", "attempts", "results", "pacing_models"} <= await tables(new_dsn)


async def test_reopening_applies_only_new_migrations(new_dsn: str) -> None:
    await (await PostgresStore.open(new_dsn)).close()
    added = (*MIGRATIONS, "CREATE TABLE later (id integer PRIMARY KEY);")
    async with await psycopg.AsyncConnection.connect(
        new_dsn, autocommit=True, row_factory=psycopg.rows.dict_row
    ) as conn:
        assert await migrate(conn, T0, migrations=added) == [len(added)]
        assert await migrate(conn, T0, migrations=added) == []
    assert await versions(new_dsn) == list(range(1, len(added) + 1))


async def test_two_engines_opening_a_new_database_apply_each_migration_once(new_dsn: str) -> None:
    """The advisory lock: the second engine waits, then finds the migration applied."""
    stores = await asyncio.gather(PostgresStore.open(new_dsn), PostgresStore.open(new_dsn))
    for store in stores:
        await store.close()
    assert await versions(new_dsn) == list(range(1, len(MIGRATIONS) + 1))


async def test_a_failed_migration_leaves_no_trace(new_dsn: str) -> None:
    await (await PostgresStore.open(new_dsn)).close()
    broken = "CREATE TABLE half (id integer PRIMARY KEY); SELECT 1 / 0;"
    async with await psycopg.AsyncConnection.connect(
        new_dsn, autocommit=True, row_factory=psycopg.rows.dict_row
    ) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero):
            await migrate(conn, T0, migrations=(*MIGRATIONS, broken))
    assert "half" not in await tables(new_dsn)
    assert await versions(new_dsn) == list(range(1, len(MIGRATIONS) + 1))


async def test_a_database_newer_than_the_code_is_refused(new_dsn: str) -> None:
    await (await PostgresStore.open(new_dsn)).close()
    async with await psycopg.AsyncConnection.connect(new_dsn, autocommit=True) as conn:
        await conn.execute("INSERT INTO migrations VALUES (99, now())")
    with pytest.raises(
        SetupError, match=r"written by a newer phonebank \(schema 99; .* restore a backup"
    ):
        await PostgresStore.open(new_dsn)


async def test_a_server_that_does_not_answer_is_named_without_the_password() -> None:
    port = pick_port(socket.SOCK_STREAM)  # nothing listens there
    with pytest.raises(SetupError) as raised:
        await PostgresStore.open(f"postgresql://ann:secret@127.0.0.1:{port}/phonebank")
    message = str(raised.value)
    assert f"Cannot connect to PostgreSQL at 127.0.0.1:{port}/phonebank" in message
    assert "secret" not in message


async def test_times_come_back_in_utc_whatever_the_database_time_zone(new_dsn: str) -> None:
    async with await psycopg.AsyncConnection.connect(new_dsn, autocommit=True) as conn:
        database = new_dsn.rsplit("/", 1)[1]
        await conn.execute(f"ALTER DATABASE {database} SET timezone = 'America/New_York'")
    store = await PostgresStore.open(new_dsn)
    try:
        campaign = await store.create_campaign("Fall", created_at=T0)
        assert (await store.get_campaign(campaign.id)).created_at == T0
        assert str((await store.get_campaign(campaign.id)).created_at) == str(T0)
    finally:
        await store.close()


async def test_every_write_is_committed_before_it_returns(
    store: PostgresStore, postgres_dsn: str
) -> None:
    """Another engine's store sees each write at once."""
    reader = await PostgresStore.open(postgres_dsn)
    try:
        campaign = await store.create_campaign("Fall")
        await store.add_operator("admin", "hash")
        await store.audit("admin", "campaign.create", {}, T0)
        await store.add_dnc("+12025550001", campaign.id, "asked", "admin", T0)
        assert await reader.get_campaign(campaign.id) == campaign
        assert await reader.get_operator("admin") is not None
        assert len(await reader.audit_log()) == 1
        assert await reader.is_dnc("+12025550001", campaign.id)
    finally:
        await reader.close()


# --- claims that lock ------------------------------------------------------------------------


async def test_a_claim_skips_the_voters_another_claim_holds_without_waiting(
    store: PostgresStore, postgres_dsn: str
) -> None:
    campaign_id = await campaign_with_voters(store, phones(3))
    async with await psycopg.AsyncConnection.connect(postgres_dsn) as other, other.transaction():
        await other.execute("SELECT id FROM voters WHERE id = 1 FOR UPDATE")  # mid-claim
        claimed = await asyncio.wait_for(store.claim_voters(campaign_id, 2, T0, [NY], 3), 5)
        assert [voter.id for voter, _ in claimed] == [2, 3]


async def test_concurrent_claimers_never_share_a_voter(
    store: PostgresStore, postgres_dsn: str
) -> None:
    """Two engines' stores, four claimers each, claim one campaign's voters as fast as they
    can: every voter is claimed exactly once."""
    campaign_id = await campaign_with_voters(store, phones(400))
    other = await PostgresStore.open(postgres_dsn)
    claimed: list[list[int]] = []

    async def claimer(claiming: PostgresStore, count: int) -> None:
        mine: list[int] = []
        claimed.append(mine)
        while batch := await claiming.claim_voters(campaign_id, count, T0, [NY], 3):
            mine += [voter.id for voter, _ in batch]

    try:
        await asyncio.gather(
            *(claimer(s, 1 + n % 3) for n, s in enumerate([store, other] * 4)),
        )
    finally:
        await other.close()
    every = [voter_id for mine in claimed for voter_id in mine]
    assert sorted(every) == list(range(1, 401))
    assert sum(1 for mine in claimed if mine) > 1
    assert len(await store.list_attempts(campaign_id)) == 400


# --- writers that SQLite puts in a queue take turns --------------------------------------------


async def test_concurrent_writers_of_one_thing_take_turns(
    store: PostgresStore, postgres_dsn: str
) -> None:
    """Two engines import the same list, sign the same volunteer up and save the same call's
    result at once: no uniqueness error, and the same outcome as one after the other."""
    other = await PostgresStore.open(postgres_dsn)
    try:
        campaign = await store.create_campaign("Fall")
        rows = [Row(phone) for phone in phones(300)]
        imports = await asyncio.gather(
            store.add_voters(campaign.id, rows), other.add_voters(campaign.id, rows)
        )
        assert sorted(imports) == [(0, 300), (300, 0)]
        ann, again = await asyncio.gather(
            store.add_volunteer("Ann", "ann@example.org", "+12025550100"),
            other.add_volunteer("Ann", "ANN@example.org ", "+12025550100"),
        )
        assert ann == again
        session_id = await session_for(store, campaign.id)
        [(_, attempt)] = await store.claim_voters(campaign.id, 1, T0, [NY], 3)
        await asyncio.gather(
            store.save_result(attempt.id, session_id, "talked", {}, "", T0),
            other.save_result(attempt.id, session_id, "no_contact", {}, "", T0),
        )
        result = await store.result_for_attempt(attempt.id)
        assert result is not None
        assert len(await store.result_history(result.id)) == 1
    finally:
        await other.close()


# --- the test server ---------------------------------------------------------------------------


def test_each_test_server_has_its_own_port_and_directory(postgres_server: PostgresServer) -> None:
    """What lets every pytest-xdist worker start its own: a free port, a directory of its
    own, owned by the unprivileged user; stopping it removes the directory."""
    with PostgresServer.start() as second:
        assert second.port != postgres_server.port
        assert second.root != postgres_server.root
        assert second.data.stat().st_uid != 0
        root = second.root
    assert not root.exists()
    assert postgres_server.data.exists()


async def test_the_store_carries_on_after_the_server_restarts() -> None:
    """Connections the server cut are checked and replaced when next taken from the pool: no
    store call fails because of the restart."""
    with PostgresServer.start() as server:
        store = await PostgresStore.open(server.create_database("restarted"), pool_size=(2, 2))
        try:
            campaign = await store.create_campaign("Fall")
            await asyncio.to_thread(server.restart)
            assert await store.get_campaign(campaign.id) == campaign
            assert len(await store.list_campaigns()) == 1
        finally:
            await store.close()
