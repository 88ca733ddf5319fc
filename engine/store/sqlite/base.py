"""What every part of the SQLite store shares: the connection, transactions, small queries."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlite_utils import Database

from engine.errors import NotFound
from engine.store.sqlite.rows import decode, encode_fields
from engine.store.sqlite.worker import SqliteWorker

T = TypeVar("T")

Params = Sequence[Any] | Mapping[str, Any]


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that takes the database's write lock at once (BEGIN IMMEDIATE), so
    what it reads cannot change under it; committed on success, rolled back on error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def fetch_all(conn: sqlite3.Connection, sql: str, params: Params = ()) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def fetch_one(conn: sqlite3.Connection, sql: str, params: Params = ()) -> dict[str, Any] | None:
    rows = fetch_all(conn, sql, params)
    return rows[0] if rows else None


class SqliteBase:
    """Holds the sqlite-utils Database and the worker thread that alone uses it while the
    store is open (engine/store/sqlite/worker.py); the feature mixins of SqliteStore build on
    it. Their public methods are synchronous bodies marked @on_worker, which run them on that
    thread; the private helpers below run on whichever thread calls them (the worker)."""

    def __init__(self, db: Database, worker: SqliteWorker | None = None) -> None:
        self.db = db
        self.worker = worker or SqliteWorker()

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def _all(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        return fetch_all(self.conn, sql, params)

    def _one(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        return fetch_one(self.conn, sql, params)

    def _insert(self, table: str, record: Mapping[str, Any]) -> int:
        """Insert one row of SQLite values and return its id; committed at once unless a
        transaction is open (sqlite-utils' Database.execute)."""
        columns = ", ".join(record)
        marks = ", ".join("?" * len(record))
        cursor = self.db.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(record.values())
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _get(self, table: str, row_id: int, what: str) -> dict[str, Any]:
        """The row with this id. Raises NotFound naming ``what``."""
        row = self._one(f"SELECT * FROM {table} WHERE id = ?", (row_id,))
        if row is None:
            raise NotFound(f"There is no {what} with id {row_id}.")
        return row

    def _update(
        self,
        table: str,
        cls: type[T],
        row_id: int,
        what: str,
        fields: Mapping[str, Any],
        columns: Mapping[str, Any] | None = None,
    ) -> T:
        """Set dataclass fields (and any other ``columns``) of one row; return the updated
        object. Raises NotFound, and TypeError for a name that is not a field of ``cls``."""
        if "id" in fields:
            raise TypeError(f"the id of a {what} cannot be changed")
        with immediate(self.conn):
            current: Any = decode(cls, self._get(table, row_id, what))
            dataclasses.replace(current, **fields)  # raises TypeError for unknown names
            values = {**encode_fields(fields), **(columns or {})}
            if values:
                assignments = ", ".join(f"{name} = ?" for name in values)
                self.conn.execute(
                    f"UPDATE {table} SET {assignments} WHERE id = ?", [*values.values(), row_id]
                )
            return decode(cls, self._get(table, row_id, what))
