"""Voter import speed: a 100,000-row CSV into a fresh SQLite store on disk.

Writes a voter file in a temporary directory (mostly valid rows, with duplicates, bad phone
numbers, rows with the wrong number of fields, blank lines, accented names, ZIPs both known
and unknown, and a few numbers on the do-not-call list), imports it into a temporary store and
prints the rate and the summary.

    .venv/bin/python bench/import_rate.py [ROWS]
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from engine.store.sqlite.store import SqliteStore
from engine.voters.importer import import_voters

ZIPS = ("10001", "60601", "80202", "94110", "99501", "96813", "00000", "")
FIRST = ("Ana", "José", "Zoë", "Mary", "Wei", "Olu", "Siobhán", "Tom")
LAST = ("Lima", "Muñoz", "Smith", "Nguyen", "O'Brien", "García", "Kowalski", "Lee")


def voter_line(i: int, rng: random.Random) -> str:
    """One row; every 25th has a bad phone, every 100th a stray field, every 20th repeats an
    earlier number."""
    if i % 25 == 7:
        phone = f"555-{i % 100:02d}"
    elif i % 20 == 3:
        phone = phone_for(rng.randrange(max(i, 1)))
    else:
        phone = phone_for(i)
    fields = [
        rng.choice(FIRST),
        rng.choice(LAST),
        phone,
        f"{i} Main St",
        rng.choice(ZIPS),
        rng.choice(("DEM", "REP", "IND", "")),
        str(rng.randrange(18, 99)),
        f"P-{i % 300}",
    ]
    if i % 100 == 11:
        fields.append("stray")
    return ",".join(f'"{f}"' if "," in f else f for f in fields) + "\n"


def phone_for(i: int) -> str:
    """A valid US number, written the way people do: (212) 200-0001."""
    digits = e164_for(i)[2:]
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def e164_for(i: int) -> str:
    area = ("212", "312", "303", "415", "907", "808", "646", "773")[i % 8]
    return f"+1{area}{200 + i // 10000 % 800:03d}{i % 10000:04d}"


def write_file(path: Path, rows: int) -> None:
    rng = random.Random(1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("First Name,Last Name,Phone,Address,Zip,Party,Age,Precinct\n")
        for i in range(rows):
            out.write(voter_line(i, rng))
            if i % 1000 == 500:
                out.write("\n")


async def main(rows: int) -> None:
    with tempfile.TemporaryDirectory(prefix="phonebank-bench-") as tmp:
        path = Path(tmp) / "voters.csv"
        write_file(path, rows)
        size = path.stat().st_size
        store = SqliteStore.open(Path(tmp) / "phonebank.db")
        try:
            campaign = await store.create_campaign("Bench")
            for i in range(0, 5000, 50):
                await store.add_dnc(e164_for(i), None, "bench", "bench", datetime.now(UTC))
            summary = await import_voters(store, campaign.id, path)
        finally:
            await store.close()
    rate = summary.total_rows / summary.elapsed_seconds
    print(
        f"{summary.total_rows} rows ({size:,} bytes) in {summary.elapsed_seconds:.2f} s:"
        f" {rate:,.0f} rows/s"
    )
    print(
        json.dumps(
            {
                k: getattr(summary, k)
                for k in (
                    "imported",
                    "merged",
                    "dnc",
                    "invalid",
                    "total_rows",
                    "errors_not_kept",
                    "encoding",
                    "delimiter",
                )
            },
            indent=1,
        )
    )
    for error in summary.errors[:3]:
        print(f"  {error}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
