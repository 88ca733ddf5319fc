"""`phonebank backup FILE` and `phonebank restore FILE`: the database file, copied online and
put back (engine/store/sqlite/backup.py does the work; this prints what it did)."""

from __future__ import annotations

import time
from pathlib import Path

from engine.clock import utc_now
from engine.config import Config
from engine.store.open import sqlite_path
from engine.store.sqlite.backup import DatabaseSummary, back_up, restore


def backup_database(cfg: Config, target: Path, force: bool) -> int:
    started = time.monotonic()
    database = sqlite_path(cfg.engine.database)
    summary = back_up(database, target, force=force)
    print(
        f"backed up {database} to {target} in {time.monotonic() - started:.1f} s: "
        + describe(summary)
    )
    return 0


def restore_database(cfg: Config, source: Path) -> int:
    database = sqlite_path(cfg.engine.database)
    restored = restore(database, source, utc_now())
    print(f"restored {source} into {database}: {describe(restored.summary)}")
    if restored.kept is not None:
        print(f"the database it replaced is kept as {restored.kept}")
    print("start phonebank as usual; it brings a backup of an older schema up to date")
    return 0


def describe(summary: DatabaseSummary) -> str:
    """e.g. '1.2 MB, schema 3; 2 campaigns, 12,000 voters, ...'."""
    counts = ", ".join(f"{count:,} {table}" for table, count in summary.counts.items())
    return f"{summary.size / 1e6:.1f} MB, schema {summary.schema}; {counts}"
