"""Backing up and restoring the SQLite database file (`phonebank backup` and `restore`).

A backup is a consistent online copy made with SQLite's backup API on a connection of its
own: one step copies every page inside one read transaction, and in WAL mode a reader never
blocks the engine's writes, so the copy is the database as of one instant while phonebank keeps
dialing. The copy is written beside the target and renamed into place, so a failed backup
never leaves a half-written file under the target's name.

A restore checks the file first (SQLite's integrity_check, a phonebank schema this code knows),
refuses while a phonebank process has the database open (engine/store/sqlite/in_use.py), and
keeps the database it replaces as ``<db>.before-restore-<timestamp>``. A backup of an older
schema is brought up to date by the migrations the next time phonebank starts.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from engine.errors import SetupError
from engine.store.sqlite.in_use import DatabaseHold
from engine.store.sqlite.migrations import MIGRATIONS, newer_schema

COUNTED = ("campaigns", "voters", "volunteers", "sessions", "attempts", "results", "operators")
"""The tables whose row counts a backup and a restore print."""
BUSY_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class DatabaseSummary:
    """What a database file holds: its size, schema version and row counts."""

    path: Path
    size: int
    schema: int
    counts: dict[str, int]


@dataclass(frozen=True)
class Restored:
    summary: DatabaseSummary
    kept: Path | None
    """Where the replaced database was kept (None: there was none)."""


def back_up(database: Path, target: Path, *, force: bool = False) -> DatabaseSummary:
    """Copy the database at `database` to `target`, consistently, while phonebank runs.

    Raises SetupError when there is no database, when `target` exists (unless `force`) or is
    the database itself, or when the copy cannot be written."""
    if not database.is_file():
        raise SetupError(
            f"There is no database at {database}: check engine.database"
            " (PHONEBANK_ENGINE_DATABASE)."
        )
    if target.exists() and target.resolve() == database.resolve():
        raise SetupError(f"{target} is the database itself: choose another file for the backup.")
    if target.exists() and not force:
        raise SetupError(
            f"{target} already exists: choose another file name, or add --force to overwrite it."
        )
    _copy(database, target)
    return summarise(target)


def check_backup(source: Path) -> DatabaseSummary:
    """Whether `source` can be restored: an intact phonebank database of a known schema.

    Raises SetupError saying what is wrong with it."""
    if not source.is_file():
        raise SetupError(f"There is no file {source} to restore.")
    try:
        with _reading(source) as connection:
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            versions = _versions(connection, source)
    except sqlite3.DatabaseError as exc:
        if "malformed" in str(exc):
            raise SetupError(
                f"{source} is damaged ({exc}): it cannot be restored; use an older backup."
            ) from None
        raise SetupError(
            f"{source} is not an SQLite database ({exc}): it cannot be restored."
        ) from None
    if problems != ["ok"]:
        first = problems[0].replace("*** in database main ***", "").strip().replace("\n", " ")
        raise SetupError(
            f"{source} is damaged (SQLite's integrity check: {first}): it cannot be"
            " restored; use an older backup."
        )
    if versions[-1] > len(MIGRATIONS):
        raise SetupError(newer_schema(f"The backup {source}", versions[-1]))
    if versions != list(range(1, versions[-1] + 1)):
        raise SetupError(f"{source} is not a phonebank database (its migrations are {versions}).")
    return summarise(source)


def restore(database: Path, source: Path, now: datetime) -> Restored:
    """Replace the database at `database` with the backup `source`; the replaced one is kept
    as ``<database>.before-restore-<now>``.

    Raises SetupError when the backup is unusable (check_backup) or while a phonebank process
    has the database open."""
    summary = check_backup(source)
    if source.resolve() == database.resolve():
        raise SetupError(f"{source} is the database itself: there is nothing to restore.")
    database.parent.mkdir(parents=True, exist_ok=True)
    hold = DatabaseHold.exclusive(database)
    try:
        kept = None
        if database.exists():
            _fold_wal(database)
            kept = database.with_name(f"{database.name}.before-restore-{now:%Y%m%dT%H%M%SZ}")
            os.replace(database, kept)
        _copy(source, database)
        if kept is not None:  # restored as root: still the phonebank user's database
            owner = kept.stat()
            with contextlib.suppress(PermissionError):
                os.chown(database, owner.st_uid, owner.st_gid)
    finally:
        hold.release()
    return Restored(summary, kept)


def summarise(path: Path) -> DatabaseSummary:
    """Size, schema version and row counts of the phonebank database at `path`."""
    with _reading(path) as connection:
        versions = _versions(connection, path)
        counts = {
            table: int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in COUNTED
        }
    return DatabaseSummary(path, path.stat().st_size, versions[-1], counts)


def _copy(source: Path, target: Path) -> None:
    """SQLite's backup API, all pages in one step (one read transaction: one instant), into a
    private file beside `target` renamed into place; the copy needs no -wal file."""
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        partial.unlink(missing_ok=True)
        os.close(os.open(partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise SetupError(f"Cannot write {target}: {exc.strerror} ({exc.filename}).") from None
    try:
        reader = sqlite3.connect(source, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            writer = sqlite3.connect(partial)
            try:
                reader.backup(writer)
                writer.execute("PRAGMA journal_mode = DELETE")
            finally:
                writer.close()
        finally:
            reader.close()
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise SetupError(f"Copying {source} to {target} failed: {exc}.") from exc
    finally:
        partial.unlink(missing_ok=True)


def _fold_wal(database: Path) -> None:
    """Write the database's WAL back into it and leave WAL mode, so the file alone holds
    every committed row (a -wal file left beside it would be lost, or worse, replayed into
    the restored database)."""
    connection = sqlite3.connect(database, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.OperationalError as exc:
        raise SetupError(
            f"Another program has the database {database} open ({exc}): close it (an sqlite3"
            " shell, a viewer), then restore."
        ) from None
    finally:
        connection.close()


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the file at `path` (never creates or changes it)."""
    connection = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS
    )
    try:
        yield connection
    finally:
        connection.close()


def _versions(connection: sqlite3.Connection, path: Path) -> list[int]:
    """The migrations applied to the database, in order. Raises SetupError when it has none."""
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    if "migrations" not in tables or not set(COUNTED) <= tables:
        raise SetupError(f"{path} is not a phonebank database (it has no phonebank tables).")
    versions = [int(r[0]) for r in connection.execute("SELECT version FROM migrations ORDER BY 1")]
    if not versions:
        raise SetupError(f"{path} is not a phonebank database (no schema version is recorded).")
    return versions
