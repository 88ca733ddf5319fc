"""What every part of the PostgreSQL store shares: the connection pool, transactions and the
small queries each feature module builds on."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg_pool import AsyncConnectionPool

from engine.errors import NotFound
from engine.store.postgresql.rows import decode, encode_fields

T = TypeVar("T")

Connection = AsyncConnection[DictRow]
Pool = AsyncConnectionPool[Connection]
Params = Sequence[Any] | Mapping[str, Any]


async def fetch_all(conn: Connection, sql: str, params: Params = ()) -> list[dict[str, Any]]:
    cursor = await conn.execute(sql, params)
    return await cursor.fetchall()


async def fetch_one(conn: Connection, sql: str, params: Params = ()) -> dict[str, Any] | None:
    cursor = await conn.execute(sql, params)
    return await cursor.fetchone()


async def insert(conn: Connection, table: str, record: Mapping[str, Any]) -> int:
    """Insert one row (values already encoded) and return its id."""
    columns = ", ".join(record)
    marks = ", ".join(["%s"] * len(record))
    row = await fetch_one(
        conn,
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id",
        list(record.values()),
    )
    assert row is not None
    return int(row["id"])


async def get_row(
    conn: Connection, table: str, row_id: int, what: str, *, lock: bool = False
) -> dict[str, Any]:
    """The row with this id; with ``lock``, locked until the transaction ends against other
    writers of it (FOR NO KEY UPDATE: rows that refer to it may still be added). Raises
    NotFound naming ``what``."""
    suffix = " FOR NO KEY UPDATE" if lock else ""
    row = await fetch_one(conn, f"SELECT * FROM {table} WHERE id = %s{suffix}", (row_id,))
    if row is None:
        raise NotFound(f"There is no {what} with id {row_id}.")
    return row


async def update_row(
    conn: Connection,
    table: str,
    cls: type[T],
    row_id: int,
    what: str,
    fields: Mapping[str, Any],
    columns: Mapping[str, Any] | None = None,
) -> T:
    """Set dataclass fields (and any other ``columns``) of one row, inside the caller's
    transaction; return the updated object. Raises NotFound, and TypeError for a name that
    is not a field of ``cls``."""
    if "id" in fields:
        raise TypeError(f"the id of a {what} cannot be changed")
    current = decode(cls, await get_row(conn, table, row_id, what, lock=True))
    dataclasses.replace(cast(Any, current), **fields)  # raises TypeError for unknown names
    values = {**encode_fields(fields), **(columns or {})}
    if not values:
        return current
    assignments = ", ".join(f"{name} = %s" for name in values)
    row = await fetch_one(
        conn,
        f"UPDATE {table} SET {assignments} WHERE id = %s RETURNING *",
        [*values.values(), row_id],
    )
    assert row is not None
    return decode(cls, row)


class PostgresBase:
    """Holds the connection pool; the feature mixins of PostgresStore build on it. Each
    method takes a connection for as long as it runs; writes that must be atomic run in
    one transaction (``_transaction``), committed before the method returns."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        """A connection inside a transaction: committed on success, rolled back on error."""
        async with self.pool.connection() as conn, conn.transaction():
            yield conn

    async def _all(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            return await fetch_all(conn, sql, params)

    async def _one(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        async with self.pool.connection() as conn:
            return await fetch_one(conn, sql, params)

    async def _execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement on its own (committed at once); how many rows it changed."""
        async with self.pool.connection() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount

    async def _get(self, table: str, row_id: int, what: str) -> dict[str, Any]:
        """The row with this id. Raises NotFound naming ``what``."""
        async with self.pool.connection() as conn:
            return await get_row(conn, table, row_id, what)
