"""bench/row_sizes.py: bytes per row of each table, its indexes apart, from dbstat."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.row_sizes import row_sizes


def test_pages_of_a_table_and_of_its_indexes_are_divided_by_its_rows(tmp_path: Path) -> None:
    database = tmp_path / "sizes.db"
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA page_size = 4096")
        db.execute("CREATE TABLE wide (id INTEGER PRIMARY KEY, body TEXT)")
        db.execute("CREATE INDEX wide_body ON wide (body)")
        db.execute("CREATE TABLE empty (id INTEGER PRIMARY KEY)")
        db.execute("CREATE TABLE narrow (id INTEGER PRIMARY KEY)")
        db.executemany("INSERT INTO wide (body) VALUES (?)", [("x" * 300,)] * 1000)
        db.execute("INSERT INTO narrow DEFAULT VALUES")
    wide, narrow = row_sizes(database)
    assert (wide.table, wide.rows, narrow.table, narrow.rows) == ("wide", 1000, "narrow", 1)
    table, indexes = wide.per_row
    # 300-byte bodies: the table's and the index's pages hold a bit more than that per row
    assert 300 < table < 400
    assert 300 < indexes < 400
    assert wide.table_bytes % 4096 == 0 and wide.index_bytes % 4096 == 0
    assert narrow.per_row == (4096.0, 0.0)
