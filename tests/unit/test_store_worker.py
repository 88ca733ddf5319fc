"""SqliteStore runs its SQLite work on its own thread: the loop keeps ticking during a slow
query, concurrent claims never share a voter, close() waits for queued work; and the hourly
dashboard figures from aggregate queries equal the old read of every attempt."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from engine.models import Attempt, CallOutcome, CallState
from engine.operators.stats import HOURS, hourly
from engine.store.sqlite.attempts import _BY_HOUR, _WINDOW
from engine.store.sqlite.store import SqliteStore
from tests.unit.store_helpers import NY, T0, campaign_with_voters, phones


@pytest.fixture
async def store() -> AsyncIterator[SqliteStore]:
    store = SqliteStore.open(":memory:")
    yield store
    await store.close()


async def test_the_loop_keeps_ticking_while_a_slow_query_runs(store: SqliteStore) -> None:
    threads: list[int] = []

    def slow() -> int:
        threads.append(threading.get_ident())
        time.sleep(0.3)  # a query stuck on the disk or the write lock
        return 0

    store.conn.set_progress_handler(slow, 1)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        started = time.monotonic()
        assert await store.list_campaigns() == []
        assert time.monotonic() - started >= 0.3
    finally:
        store.conn.set_progress_handler(None, 1)
        task.cancel()
    assert ticks >= 10  # 10 ms ticks went on during the 300 ms query
    assert threads and threading.get_ident() not in threads


async def test_one_thread_runs_every_call_of_a_store(store: SqliteStore) -> None:
    seen: set[int] = set()

    def record() -> int:
        seen.add(threading.get_ident())
        return 0

    store.conn.set_progress_handler(record, 1)
    campaign_id = await campaign_with_voters(store, phones(5))
    await asyncio.gather(*(store.get_campaign(campaign_id) for _ in range(20)))
    store.conn.set_progress_handler(None, 1)
    assert len(seen) == 1 and threading.get_ident() not in seen


async def test_concurrent_claims_never_hand_out_one_voter_twice(store: SqliteStore) -> None:
    campaign_id = await campaign_with_voters(store, phones(60))
    batches = await asyncio.gather(
        *(store.claim_voters(campaign_id, 7, T0, [NY], max_attempts=3) for _ in range(12))
    )
    voter_ids = [voter.id for batch in batches for voter, _attempt in batch]
    assert len(voter_ids) == 60
    assert len(set(voter_ids)) == 60


async def test_two_stores_on_one_file_never_claim_one_voter_twice(tmp_path: Path) -> None:
    path = tmp_path / "phonebank.db"
    first, second = SqliteStore.open(path), SqliteStore.open(path)
    try:
        campaign_id = await campaign_with_voters(first, phones(40))
        batches = await asyncio.gather(
            *(
                store.claim_voters(campaign_id, 3, T0, [NY], max_attempts=3)
                for _ in range(10)
                for store in (first, second)
            )
        )
    finally:
        await first.close()
        await second.close()
    voter_ids = [voter.id for batch in batches for voter, _attempt in batch]
    assert sorted(voter_ids) == sorted(set(voter_ids))
    assert len(voter_ids) == 40


async def test_close_waits_for_queued_work(tmp_path: Path) -> None:
    path = tmp_path / "phonebank.db"
    store = SqliteStore.open(path)
    campaign_id = await campaign_with_voters(store, [])
    writes = [
        asyncio.ensure_future(store.add_dnc(f"+1202555{n:04d}", campaign_id, "asked", "ann", T0))
        for n in range(50)
    ]
    await asyncio.sleep(0)  # the writes are queued, not done
    await store.close()
    assert all(write.done() and write.exception() is None for write in writes)
    with pytest.raises(RuntimeError):
        await store.get_campaign(campaign_id)
    reopened = SqliteStore.open(path)
    try:
        assert len(await reopened.dnc_phones(campaign_id)) == 50
    finally:
        await reopened.close()


def _scan(attempts: list[Attempt], now: datetime) -> dict[str, object]:
    """The dashboard's figures as web/operator/live.py computed them before: every attempt
    of the campaign read and bucketed in Python."""
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS - 1)
    contacts, counts, in_flight = [0] * HOURS, [0] * HOURS, 0
    for attempt in attempts:
        if attempt.state != CallState.ENDED:
            in_flight += 1
            continue
        when = attempt.ended_at or attempt.claimed_at
        if when is None or when < start:
            continue
        slot = min(HOURS - 1, int((when - start).total_seconds() // 3600))
        counts[slot] += 1
        if attempt.outcome == CallOutcome.CONTACT:
            contacts[slot] += 1
    return {
        "contacts_per_hour": contacts,
        "attempts_per_hour": counts,
        "lines_in_flight": in_flight,
    }


async def test_hourly_figures_equal_the_old_scan(store: SqliteStore) -> None:
    now = T0 + timedelta(minutes=37)
    campaign_id = await campaign_with_voters(store, phones(120))
    other = await campaign_with_voters(store, phones(10, start=500), name="Other")
    outcomes = [CallOutcome.CONTACT, CallOutcome.NO_ANSWER, CallOutcome.BUSY, None]
    claimed = await store.claim_voters(campaign_id, 120, now - timedelta(hours=20), [NY], 3)
    for n, (_voter, attempt) in enumerate(claimed):
        if n % 9 == 0:
            continue  # still in flight
        ended = now - timedelta(minutes=13 * n) if n % 7 else None  # some never got an end
        await store.update_attempt(
            attempt.id,
            state=CallState.ENDED,
            ended_at=ended,
            claimed_at=now - timedelta(minutes=11 * n),
            outcome=outcomes[n % len(outcomes)],
        )
    for _voter, attempt in await store.claim_voters(other, 10, now, [NY], 3):
        await store.update_attempt(
            attempt.id, state=CallState.ENDED, ended_at=now, outcome=CallOutcome.CONTACT
        )
    campaign = await store.update_campaign(campaign_id, time_zone="UTC")
    figures = await hourly(store, campaign, now)
    expected = _scan(await store.list_attempts(campaign_id), now)
    assert {key: figures[key] for key in expected} == expected
    assert sum(figures["attempts_per_hour"]) > 40 and figures["lines_in_flight"] == 14
    assert figures["hours"][-1] == "16:00"


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param(_BY_HOUR, id="attempts_by_hour"),
        pytest.param(f"SELECT outcome, count(*) FROM ({_WINDOW}) GROUP BY outcome", id="window"),
        pytest.param(
            "SELECT count(*) FROM attempts INDEXED BY attempts_campaign_open "
            "WHERE campaign_id = :campaign AND state != 'ended'",
            id="in_flight",
        ),
    ],
)
async def test_statistics_read_index_ranges_not_the_whole_campaign(
    store: SqliteStore, sql: str
) -> None:
    params = {"campaign": 1, "since": "2024-10-01", "contact": "contact"}
    plan = [row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()]
    searches = [step for step in plan if "attempts" in step]
    assert searches and all(step.startswith("SEARCH") for step in searches), plan
    assert all("campaign_id=?" in step for step in searches), plan
    assert all("ended_at" in step for step in searches if "window" in step), plan
