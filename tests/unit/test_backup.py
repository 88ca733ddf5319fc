"""`phonebank backup` and `restore`: a consistent online copy while a writer is busy, the round
trip, and each refusal as one sentence."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.errors import SetupError
from engine.store.sqlite.backup import back_up, check_backup, restore
from engine.store.sqlite.in_use import DatabaseHold
from engine.store.sqlite.migrations import MIGRATIONS
from engine.store.sqlite.store import SqliteStore
from tests.helpers import wait_until
from tests.unit.store_helpers import campaign_with_voters, phones

NOW = datetime(2026, 12, 3, 20, 15, 0, tzinfo=UTC)


class BusyWriter:
    """A thread that signs up volunteers as fast as it can on a connection of its own, each
    volunteer and its login in one transaction, counting the transactions committed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.committed = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._write, name="busy-writer")

    def _write(self) -> None:
        connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            while not self.stop.is_set():
                n = self.committed
                connection.execute("BEGIN IMMEDIATE")
                cursor = connection.execute(
                    "INSERT INTO volunteers (name, email, phone, created_at) VALUES (?, ?, ?, ?)",
                    (f"V{n}", f"v{n}@example.org", "+12025550100", NOW.isoformat()),
                )
                connection.execute(
                    "INSERT INTO logins (login_id, volunteer_id, password_hash, created_at)"
                    " VALUES (?, ?, 'x', ?)",
                    (f"login-{n}", cursor.lastrowid, NOW.isoformat()),
                )
                connection.execute("COMMIT")
                self.committed += 1
        finally:
            connection.close()


def kept_files(directory: Path) -> list[Path]:
    return list(directory.glob("*.before-restore-*"))


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


async def test_a_backup_taken_while_a_writer_is_busy_is_intact_and_has_every_committed_row(
    tmp_path: Path,
) -> None:
    database = tmp_path / "phonebank.db"
    store = SqliteStore.open(database)
    writer = BusyWriter(database)
    try:
        await campaign_with_voters(store, phones(5000))
        writer.thread.start()
        await wait_until(lambda: writer.committed >= 200, 20, "the writer to be busy")
        committed_before = writer.committed
        summary = await asyncio.to_thread(back_up, database, tmp_path / "copy.db")
        committed_after = writer.committed
    finally:
        writer.stop.set()
        writer.thread.join()
        await store.close()
    copy = tmp_path / "copy.db"
    assert rows(copy, "PRAGMA integrity_check") == [("ok",)]
    assert rows(copy, "PRAGMA journal_mode") == [("delete",)]  # one file, no -wal needed
    volunteers = rows(copy, "SELECT id FROM volunteers ORDER BY id")
    assert committed_before <= len(volunteers) <= committed_after + 1
    assert [v[0] for v in volunteers] == list(range(1, len(volunteers) + 1))
    # One instant: every volunteer in the copy has the login committed with it.
    assert rows(copy, "SELECT count(*) FROM logins") == [(len(volunteers),)]
    assert summary.counts["voters"] == 5000 and summary.counts["campaigns"] == 1
    assert summary.schema == len(MIGRATIONS) and summary.size == copy.stat().st_size
    assert copy.stat().st_mode & 0o777 == 0o600


async def test_restore_puts_the_backup_back_and_keeps_the_replaced_database(
    tmp_path: Path,
) -> None:
    database = tmp_path / "phonebank.db"
    store = SqliteStore.open(database)
    await campaign_with_voters(store, phones(3), name="Before")
    await store.close()
    back_up(database, tmp_path / "backup.db")
    store = SqliteStore.open(database)
    await store.create_campaign("After the backup")
    await store.close()

    restored = restore(database, tmp_path / "backup.db", NOW)

    assert restored.kept == tmp_path / "phonebank.db.before-restore-20261203T201500Z"
    assert restored.summary.counts["campaigns"] == 1
    assert not (tmp_path / "phonebank.db-wal").exists()
    store = SqliteStore.open(database)
    try:
        assert [c.name for c in await store.list_campaigns()] == ["Before"]
        assert sum((await store.voter_counts(1)).values()) == 3
    finally:
        await store.close()
    kept = [r[0] for r in rows(restored.kept, "SELECT name FROM campaigns ORDER BY id")]
    assert kept == ["Before", "After the backup"]
    assert database.stat().st_mode & 0o777 == 0o600


async def test_restore_is_refused_while_phonebank_has_the_database_open(tmp_path: Path) -> None:
    database = tmp_path / "phonebank.db"
    store = SqliteStore.open(database)
    try:
        back_up(database, tmp_path / "backup.db")
        with pytest.raises(SetupError, match=r"phonebank is running on the database .*stop it"):
            restore(database, tmp_path / "backup.db", NOW)
        assert not kept_files(tmp_path)
    finally:
        await store.close()
    restore(database, tmp_path / "backup.db", NOW)  # stopped: it is allowed


async def test_phonebank_does_not_open_a_database_a_restore_is_replacing(tmp_path: Path) -> None:
    database = tmp_path / "phonebank.db"
    hold = DatabaseHold.exclusive(database)
    try:
        with pytest.raises(SetupError, match="being replaced by 'phonebank restore'"):
            SqliteStore.open(database)
    finally:
        hold.release()
    await SqliteStore.open(database).close()


async def test_backup_refuses_to_overwrite_a_file_unless_forced(tmp_path: Path) -> None:
    database = tmp_path / "phonebank.db"
    await SqliteStore.open(database).close()
    target = tmp_path / "backup.db"
    target.write_text("precious")
    with pytest.raises(SetupError) as refused:
        back_up(database, target)
    assert str(refused.value) == (
        f"{target} already exists: choose another file name, or add --force to overwrite it."
    )
    assert target.read_text() == "precious"
    back_up(database, target, force=True)
    assert check_backup(target).schema == len(MIGRATIONS)


def test_backup_without_a_database_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match=r"There is no database at .*PHONEBANK_ENGINE_DATABASE"):
        back_up(tmp_path / "missing.db", tmp_path / "backup.db")


def test_restore_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database at all, " * 100)
    with pytest.raises(SetupError, match=r"is not an SQLite database .*cannot be restored"):
        restore(tmp_path / "phonebank.db", junk, NOW)
    assert not (tmp_path / "phonebank.db").exists()


def test_restore_refuses_an_sqlite_database_that_is_not_phonebanks(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY)")
    connection.close()
    with pytest.raises(SetupError, match="is not a phonebank database"):
        restore(tmp_path / "phonebank.db", other, NOW)


async def test_restore_refuses_a_damaged_backup(tmp_path: Path) -> None:
    database = tmp_path / "phonebank.db"
    store = SqliteStore.open(database)
    await campaign_with_voters(store, phones(2000))
    await store.close()
    damaged = tmp_path / "damaged.db"
    back_up(database, damaged)
    data = bytearray(damaged.read_bytes())
    page = 4096
    data[3 * page + 8 : 3 * page + 8 + 512] = bytes(range(256)) * 2  # a b-tree page
    damaged.write_bytes(bytes(data))
    with pytest.raises(
        SetupError, match=r"is damaged \(.*\): it cannot be restored; use an older backup\."
    ):
        restore(database, damaged, NOW)
    assert not kept_files(tmp_path)


async def test_restore_refuses_a_backup_from_a_newer_phonebank(tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    store = SqliteStore.open(newer)
    store.db.execute("INSERT INTO migrations VALUES (?, ?)", [len(MIGRATIONS) + 1, NOW])
    await store.close()
    with pytest.raises(SetupError, match=r"was written by a newer phonebank .*restore a backup"):
        restore(tmp_path / "phonebank.db", newer, NOW)


def test_the_backup_command_prints_the_size_and_counts_and_refuses_to_overwrite(
    tmp_path: Path,
) -> None:
    database = tmp_path / "phonebank.db"
    asyncio.run(SqliteStore.open(database).close())
    env = {**os.environ, "PHONEBANK_ENGINE_DATABASE": str(database)}
    command = [sys.executable, "-m", "phonebank.cli", "backup", str(tmp_path / "b.db")]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert f"backed up {database} to {tmp_path / 'b.db'}" in first.stdout
    assert "MB, schema" in first.stdout and "0 campaigns, 0 voters" in first.stdout
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1
    assert "already exists: choose another file name, or add --force" in again.stderr


async def test_the_restore_command_refuses_while_phonebank_runs_then_restores(
    tmp_path: Path,
) -> None:
    database = tmp_path / "phonebank.db"
    store = SqliteStore.open(database)  # phonebank running, as far as the lock tells
    await store.create_campaign("Spring")
    env = {**os.environ, "PHONEBANK_ENGINE_DATABASE": str(database)}
    backup = [sys.executable, "-m", "phonebank.cli", "backup", str(tmp_path / "b.db")]
    restore_it = [sys.executable, "-m", "phonebank.cli", "restore", str(tmp_path / "b.db")]
    try:
        made = await asyncio.to_thread(subprocess_run, backup, env)
        assert made.returncode == 0, made.stderr
        refused = await asyncio.to_thread(subprocess_run, restore_it, env)
    finally:
        await store.close()
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"phonebank: phonebank is running on the database {str(database)!r} (or another"
        " phonebank command has it open): stop it first, then restore."
    )
    done = await asyncio.to_thread(subprocess_run, restore_it, env)
    assert done.returncode == 0, done.stderr
    assert f"restored {tmp_path / 'b.db'} into {database}: " in done.stdout
    assert "1 campaigns" in done.stdout
    assert "the database it replaced is kept as " in done.stdout


def subprocess_run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


async def test_restore_is_refused_while_another_program_has_the_database_open(
    tmp_path: Path,
) -> None:
    """Not a phonebank process (no lock), but an sqlite3 shell or a viewer: the replaced
    database cannot be folded into one file while it reads, so nothing is replaced."""
    database = tmp_path / "phonebank.db"
    await SqliteStore.open(database).close()
    back_up(database, tmp_path / "backup.db")
    viewer = sqlite3.connect(database)
    try:
        viewer.execute("BEGIN")
        viewer.execute("SELECT count(*) FROM campaigns").fetchone()  # a read in progress
        with pytest.raises(SetupError, match=r"Another program has the database .* open"):
            restore(database, tmp_path / "backup.db", NOW)
    finally:
        viewer.close()
    assert not kept_files(tmp_path)


async def test_a_restore_run_as_root_leaves_the_database_and_its_lock_to_their_owner(
    tmp_path: Path,
) -> None:
    """In a container the app runs as its own user and an operator may restore as root: the
    restored file and a lock file made by the restore keep the database's owner (the test
    suite runs as root, as the PBX tests need)."""
    database = tmp_path / "phonebank.db"
    await SqliteStore.open(database).close()
    back_up(database, tmp_path / "backup.db")
    (tmp_path / "phonebank.db.lock").unlink()
    nobody = 65534
    os.chown(database, nobody, nobody)
    restore(database, tmp_path / "backup.db", NOW)
    assert database.stat().st_uid == nobody
    assert (tmp_path / "phonebank.db.lock").stat().st_uid == nobody


async def test_a_backup_into_a_missing_folder_says_so(tmp_path: Path) -> None:
    database = tmp_path / "phonebank.db"
    await SqliteStore.open(database).close()
    with pytest.raises(SetupError, match=r"Cannot write .*/nowhere/b\.db: No such file"):
        back_up(database, tmp_path / "nowhere" / "b.db")
