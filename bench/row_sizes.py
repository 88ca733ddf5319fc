"""Bytes on disk per row of each table of a phonebank SQLite database, its indexes apart
(docs/scaling.md, "Database per shift"): the pages SQLite's `dbstat` counts for the table
and for each of its indexes, divided by the table's rows.

    .venv/bin/python bench/row_sizes.py DATABASE
"""

from __future__ import annotations

import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RowSize:
    table: str
    rows: int
    table_bytes: int
    index_bytes: int

    @property
    def per_row(self) -> tuple[float, float]:
        """(table, indexes) bytes per row."""
        return self.table_bytes / self.rows, self.index_bytes / self.rows


def row_sizes(database: Path) -> list[RowSize]:
    """Each table with at least one row, largest first; opened read-only."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        pages = dict(db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
        owners = db.execute(
            "SELECT name, tbl_name FROM sqlite_schema WHERE type IN ('table', 'index')"
        ).fetchall()
        found = []
        for table in sorted({t for name, t in owners if name == t}):
            rows = db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            if rows:
                indexes = sum(pages.get(n, 0) for n, t in owners if t == table and n != t)
                found.append(RowSize(table, rows, pages.get(table, 0), indexes))
    return sorted(found, key=lambda r: -(r.table_bytes + r.index_bytes))


def main() -> None:
    print("| table | rows | table B / row | indexes B / row | total B / row |")
    print("|---|---|---|---|---|")
    for size in row_sizes(Path(sys.argv[1])):
        table, indexes = size.per_row
        print(
            f"| {size.table} | {size.rows:,} | {table:.0f} | {indexes:.0f} "
            f"| {table + indexes:.0f} |"
        )


if __name__ == "__main__":
    main()
