"""The abandon budget's counters against the query they replaced (issue 16): one campaign with
300,000 calls over 30 days (two in three answered by a person, one in 40 of those abandoned),
on SQLite (a file) and PostgreSQL (a server of its own), then the 30-day ``abandon_counts``
as pacing asks it, from the counters and from every attempt of the window; the two must agree.

    .venv/bin/python bench/abandon_counts.py [CALLS]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.models import VoterDetails
from engine.store.base import Store
from engine.store.postgresql.store import PostgresStore
from engine.store.sqlite.store import SqliteStore
from testbed.postgres import PostgresServer

NOW = datetime(2026, 11, 3, 12, tzinfo=UTC)
SINCE = NOW - timedelta(days=30, minutes=17)  # as pacing asks: not on the hour

FILL_SQLITE = """
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :calls)
INSERT INTO attempts (campaign_id, voter_id, phone, state, amd_verdict, amd_cause, amd_at,
                      ended_at, outcome)
SELECT :campaign, :voter, '+12025550100', 'ended',
       CASE WHEN n % 3 = 0 THEN 'MACHINE' ELSE 'HUMAN' END, '',
       strftime('%Y-%m-%dT%H:%M:%f000+00:00', :now, '-' || (n * :step) || ' seconds'),
       strftime('%Y-%m-%dT%H:%M:%f000+00:00', :now, '-' || (n * :step - 40) || ' seconds'),
       CASE WHEN n % 3 = 0 THEN 'machine' WHEN n % 40 = 0 THEN 'abandoned' ELSE 'contact' END
FROM g"""
FILL_POSTGRES = """
INSERT INTO attempts (campaign_id, voter_id, phone, state, amd_verdict, amd_cause, amd_at,
                      ended_at, outcome)
SELECT %(campaign)s, %(voter)s, '+12025550100', 'ended',
       CASE WHEN g %% 3 = 0 THEN 'MACHINE' ELSE 'HUMAN' END, '',
       %(now)s - make_interval(secs => g * %(step)s),
       %(now)s - make_interval(secs => g * %(step)s - 40),
       CASE WHEN g %% 3 = 0 THEN 'machine' WHEN g %% 40 = 0 THEN 'abandoned' ELSE 'contact' END
FROM generate_series(1, %(calls)s) AS g"""
OLD_QUERY = """
SELECT count(*) AS live, count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned FROM (
    SELECT outcome, amd_verdict FROM attempts
    WHERE campaign_id = {p}campaign{s} AND ended_at >= {p}since{s}
    UNION ALL
    SELECT outcome, amd_verdict FROM attempts
    WHERE campaign_id = {p}campaign{s} AND ended_at IS NULL AND amd_at >= {p}since{s}) AS w
WHERE outcome IN ('contact', 'abandoned') AND amd_verdict <> ''"""
"""abandon_counts before the counters: every attempt of the window."""


async def median_ms(run: Callable[[], Awaitable[object]], times: int = 20) -> float:
    took = []
    for _ in range(times):
        started = time.perf_counter()
        await run()
        took.append(time.perf_counter() - started)
    return statistics.median(took) * 1000


async def campaign(store: Store) -> tuple[int, int]:
    made = await store.create_campaign("Bench")
    await store.add_voters(made.id, [VoterDetails(phone="+12025550100", timezone="UTC")])
    [(voter, _)] = await store.claim_voters(made.id, 1, NOW, ["UTC"], 3)
    return made.id, voter.id


async def on_sqlite(path: Path, calls: int) -> None:
    store = SqliteStore.open(str(path))
    campaign_id, voter = await campaign(store)
    params = {"calls": calls, "campaign": campaign_id, "voter": voter,
              "now": NOW.strftime("%Y-%m-%d %H:%M:%S"), "step": 30 * 86400 / calls}  # fmt: skip
    started = time.perf_counter()
    with store.db.conn:
        store.db.execute(FILL_SQLITE, params)
    fill = time.perf_counter() - started
    old_sql = OLD_QUERY.format(p=":", s="").replace(
        "count(*) FILTER (WHERE outcome = 'abandoned')", "coalesce(sum(outcome = 'abandoned'), 0)"
    )
    old_params = {"campaign": campaign_id, "since": SINCE.isoformat(timespec="microseconds")}

    async def old() -> tuple[int, int]:
        row = store.db.execute(old_sql, old_params).fetchone()
        return row[1], row[0]

    await report("SQLite", store, campaign_id, calls, fill, old)
    await store.close()


async def on_postgres(dsn: str, calls: int) -> None:
    store = await PostgresStore.open(dsn)
    campaign_id, voter = await campaign(store)
    params = {"calls": calls, "campaign": campaign_id, "voter": voter, "now": NOW,
              "step": 30 * 86400 / calls}  # fmt: skip
    started = time.perf_counter()
    async with store.pool.connection() as conn:
        await conn.execute(FILL_POSTGRES, params)
    fill = time.perf_counter() - started

    async def old() -> tuple[int, int]:
        async with store.pool.connection() as conn:
            cursor = await conn.execute(
                OLD_QUERY.format(p="%(", s=")s"), {"campaign": campaign_id, "since": SINCE}
            )
            row = await cursor.fetchone()
        assert row is not None
        return row["abandoned"], row["live"]

    await report("PostgreSQL", store, campaign_id, calls, fill, old)
    await store.close()


async def report(
    name: str,
    store: Store,
    campaign_id: int,
    calls: int,
    fill: float,
    old: Callable[[], Awaitable[tuple[int, int]]],
) -> None:
    counted = await store.abandon_counts(campaign_id, SINCE)
    assert counted == await old(), "the counters and the old query disagree"
    new_ms = await median_ms(lambda: store.abandon_counts(campaign_id, SINCE))
    old_ms = await median_ms(old)
    print(
        f"{name}: {calls:,} calls written in {fill:.1f} s (counters kept by the triggers);"
        f" 30-day abandon_counts {counted}: {new_ms:.2f} ms from the counters,"
        f" {old_ms:.1f} ms from every attempt (medians of 20)",
        flush=True,
    )


async def main(calls: int) -> None:
    with tempfile.TemporaryDirectory(prefix="pb-bench-") as tmp:
        await on_sqlite(Path(tmp) / "bench.db", calls)
    with PostgresServer.start() as server:
        await on_postgres(server.create_database("bench"), calls)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300_000))
