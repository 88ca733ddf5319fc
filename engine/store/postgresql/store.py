"""The PostgreSQL implementation of the Store interface (engine/store/base.py), over psycopg 3
(async) and its connection pool: the store for several engines sharing one database (issue
16). The methods live in one mixin per concern (campaigns.py, voters.py, ...), as in the
SQLite store; this module assembles them and opens the pool.

Every method takes a connection from the pool for as long as it runs; writes that must be
atomic run in one transaction, committed before the method returns. Connections are in
autocommit mode with the session time zone UTC.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import psycopg
from psycopg import AsyncConnection
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from engine.clock import utc_now
from engine.errors import SetupError
from engine.store.postgresql.attempts import AttemptsMixin
from engine.store.postgresql.availability import AvailabilityMixin
from engine.store.postgresql.base import Pool
from engine.store.postgresql.campaigns import CampaignsMixin
from engine.store.postgresql.dnc import DncMixin
from engine.store.postgresql.migrations import migrate
from engine.store.postgresql.operators import OperatorsMixin
from engine.store.postgresql.pacing import PacingMixin
from engine.store.postgresql.result_reports import ResultReportsMixin
from engine.store.postgresql.results import ResultsMixin
from engine.store.postgresql.sessions import SessionsMixin
from engine.store.postgresql.voters import VotersMixin

if TYPE_CHECKING:
    from engine.store.base import Store

log = logging.getLogger(__name__)

CONNECT_SECONDS = 10.0
"""How long opening the store waits for the server."""
POOL_SIZE = (1, 10)
"""Connections kept open at least, and at most."""
OPTIONS = "-c TimeZone=UTC"
"""Times are read back in UTC."""


class PostgresStore(
    CampaignsMixin,
    VotersMixin,
    AttemptsMixin,
    SessionsMixin,
    ResultsMixin,
    DncMixin,
    OperatorsMixin,
    PacingMixin,
    AvailabilityMixin,
    ResultReportsMixin,
):
    """Every Store method over a pool of connections to one PostgreSQL database; several
    stores, in several processes, may share it."""

    @classmethod
    async def open(cls, dsn: str, pool_size: tuple[int, int] = POOL_SIZE) -> PostgresStore:
        """Connect to the database at ``dsn`` (a postgresql:// URL or libpq key=value string),
        apply pending migrations and open the pool. Raises SetupError naming the server when
        it cannot be reached or the database is newer than this code."""
        where = describe(dsn)
        try:
            async with await AsyncConnection.connect(
                dsn,
                autocommit=True,
                row_factory=dict_row,
                options=OPTIONS,
                connect_timeout=int(CONNECT_SECONDS),
            ) as conn:
                applied = await migrate(conn, utc_now(), name=f"The database {where}")
        except psycopg.OperationalError as error:
            raise SetupError(
                f"Cannot connect to PostgreSQL at {where}: {_first_line(error)}. Check that "
                "the server runs and engine.database names it, its user and its database."
            ) from None
        if applied:
            log.info("store %s: applied migrations %s", where, applied)
        pool: Pool = AsyncConnectionPool(
            dsn,
            connection_class=AsyncConnection[DictRow],
            # autocommit: a transaction only where a method opens one; rows as dicts
            kwargs={"autocommit": True, "row_factory": dict_row, "options": OPTIONS},
            # a connection the server dropped (a restart, a failover) is replaced before use
            check=AsyncConnectionPool.check_connection,
            min_size=pool_size[0],
            max_size=pool_size[1],
            open=False,
            name="phonebank",
        )
        await pool.open(wait=True, timeout=CONNECT_SECONDS)
        return cls(pool)

    async def close(self) -> None:
        """Close the pool after the calls running now finish. Idempotent."""
        await self.pool.close()


def describe(dsn: str) -> str:
    """The server and database of ``dsn``, without its password, for messages."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "(an unreadable address)"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    return f"{host}:{port}/{parts.get('dbname') or parts.get('user') or ''}"


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or ["no reason given"])[0].rstrip(".")


def _implements_store(store: PostgresStore) -> Store:
    """Lets mypy check that PostgresStore has every Store method with the right signature."""
    return store
