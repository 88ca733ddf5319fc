"""The SQLite implementation of the Store interface (engine/store/base.py), over sqlite-utils.

The methods are coroutines whose SQLite work runs on the store's own worker thread
(engine/store/sqlite/worker.py explains the choice): the event loop never waits on the disk.
Every write runs in a BEGIN IMMEDIATE transaction that commits before the method returns.
SQLite's own locking (WAL, the busy timeout) is unchanged. The methods live in one mixin per
concern (campaigns.py, voters.py, ...); this module assembles them and opens the database.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from sqlite_utils import Database

from engine.clock import utc_now
from engine.store.sqlite.attempts import AttemptsMixin
from engine.store.sqlite.availability import AvailabilityMixin
from engine.store.sqlite.campaigns import CampaignsMixin
from engine.store.sqlite.dnc import DncMixin
from engine.store.sqlite.in_use import DatabaseHold
from engine.store.sqlite.migrations import migrate
from engine.store.sqlite.operators import OperatorsMixin
from engine.store.sqlite.pacing import PacingMixin
from engine.store.sqlite.result_reports import ResultReportsMixin
from engine.store.sqlite.results import ResultsMixin
from engine.store.sqlite.sessions import SessionsMixin
from engine.store.sqlite.voters import VotersMixin
from engine.store.sqlite.worker import SqliteWorker

if TYPE_CHECKING:
    from engine.store.base import Store

log = logging.getLogger(__name__)

MEMORY = ":memory:"

BUSY_TIMEOUT_SECONDS = 5.0
"""How long a write waits for another connection's write lock before failing."""


class SqliteStore(
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
    """Every Store method over one SQLite connection, used by the store's worker thread only
    (``db`` and ``conn`` may be used directly only while no store call is running, as tests
    and migrations do); several stores, or processes, may share one database file. A store on
    a file holds it open (engine/store/sqlite/in_use.py) until close(), so a restore cannot
    replace it meanwhile."""

    def __init__(
        self, db: Database, worker: SqliteWorker | None = None, hold: DatabaseHold | None = None
    ) -> None:
        super().__init__(db, worker)
        self._hold = hold

    @classmethod
    def open(cls, path: str | Path) -> SqliteStore:
        """Open (creating it and its parent directories if needed) the database at ``path``,
        or a private in-memory one for ":memory:", and apply pending migrations. File
        databases use WAL journaling. Raises SetupError if the database is newer than this
        code, or while 'phonebank restore' replaces it."""
        hold = None
        if str(path) != MEMORY:
            _create_private(Path(path))
            hold = DatabaseHold.shared(Path(path))
        try:
            # check_same_thread=False: opened here, then used by the worker thread alone.
            connection = sqlite3.connect(
                str(path), timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False
            )
        except BaseException:
            if hold is not None:
                hold.release()
            raise
        db = Database(connection)
        try:
            if str(path) != MEMORY:
                db.enable_wal()
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            applied = migrate(db, utc_now(), name=f"The database {str(path)!r}")
        except BaseException:
            db.close()
            if hold is not None:
                hold.release()
            raise
        if applied:
            log.info("store %s: applied migrations %s", path, applied)
        return cls(db, hold=hold)

    async def close(self) -> None:
        """Close the database after every call already queued has run. Idempotent."""
        try:
            await self.worker.close(self.db.close)
        finally:
            if self._hold is not None:
                self._hold.release()


def _create_private(path: Path) -> None:
    """Make the database file (voters, volunteers, password and token hashes) readable by its
    owner only, 0600; SQLite gives its -wal and -shm files the same mode. A directory made
    here is 0711: others may not list it, but an Asterisk run directory under the same state
    directory (pbx.asterisk = 'host') stays reachable for the asterisk user."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True)
        path.parent.chmod(0o711)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            with contextlib.suppress(PermissionError):
                os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _implements_store(store: SqliteStore) -> Store:
    """Lets mypy check that SqliteStore has every Store method with the right signature."""
    return store
