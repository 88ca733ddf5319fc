"""The shared abandon budget's counters (engine/store/live_answer_counts.py): abandon_counts
served from them gives the same answers as the query that read every attempt of the window,
on the same data, for any ``since``; the migration counts the attempts already recorded."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.models import CallOutcome, CallState
from engine.store.base import Store
from engine.store.live_answer_counts import counted_from
from engine.store.postgresql import migrations as postgres_migrations
from engine.store.postgresql.store import PostgresStore
from engine.store.sqlite import migrations as sqlite_migrations
from engine.store.sqlite.store import SqliteStore
from tests.unit.store_helpers import NY, T0, campaign_with_voters, execute, phones

pytestmark = pytest.mark.every_store

OLD_QUERY = """
SELECT coalesce(sum(CASE WHEN outcome = ? THEN 1 ELSE 0 END), 0), count(*) FROM (
    SELECT outcome, amd_verdict FROM attempts WHERE campaign_id = ? AND ended_at >= ?
    UNION ALL
    SELECT outcome, amd_verdict FROM attempts
    WHERE campaign_id = ? AND ended_at IS NULL AND amd_at >= ?) AS w
WHERE outcome IN (?, ?) AND amd_verdict <> ''"""
"""abandon_counts as both stores answered it before the counters: every attempt of the window."""


async def old_abandon_counts(store: Store, campaign_id: int, since: datetime) -> tuple[int, int]:
    when = since.astimezone(UTC).isoformat(timespec="microseconds")
    at: object = when if isinstance(store, SqliteStore) else since
    abandoned, contact = CallOutcome.ABANDONED.value, CallOutcome.CONTACT.value
    params = [abandoned, campaign_id, at, campaign_id, at, contact, abandoned]
    [(abandons, live)] = await execute(store, OLD_QUERY, params)
    return int(abandons), int(live)


def some_time(rng: random.Random) -> datetime:
    """Within three days before T0 and one after; a third of them exactly on an hour."""
    at = T0 + timedelta(seconds=rng.randint(-3 * 86400, 86400), microseconds=rng.randint(0, 999))
    return at.replace(minute=0, second=0, microsecond=0) if rng.random() < 0.33 else at


async def play_calls(store: Store, rng: random.Random, campaign_id: int, count: int) -> None:
    """Claim ``count`` voters and take each attempt through a random life: live answers that
    end later (maybe hours later), abandons, machines, preview contacts, calls never answered,
    outcomes changed afterwards."""
    pairs = await store.claim_voters(campaign_id, count, T0, [NY], 3)
    for _, attempt in pairs:
        verdict_at = some_time(rng)
        kind = rng.choice(["live", "live_ends", "abandon", "machine", "preview", "none", "redo"])
        verdict = {"machine": "MACHINE", "preview": "", "none": ""}.get(kind, "HUMAN")
        outcome = {
            "abandon": CallOutcome.ABANDONED,
            "machine": CallOutcome.MACHINE,
            "none": CallOutcome.NO_ANSWER,
        }.get(kind, CallOutcome.CONTACT)
        await store.update_attempt(
            attempt.id, state=CallState.CONNECTED, amd_at=verdict_at, amd_verdict=verdict
        )
        await store.update_attempt(attempt.id, outcome=outcome)
        if kind == "live":
            continue  # still on the line: counts from its verdict
        ended = verdict_at + timedelta(seconds=rng.choice([2, 59, 3600, 7300]))
        await store.update_attempt(attempt.id, state=CallState.ENDED, ended_at=ended)
        if kind == "redo":  # a recovery that finds the call was never served
            await store.update_attempt(attempt.id, outcome=CallOutcome.ABANDONED)


async def test_abandon_counts_equal_the_old_query_for_any_since(store: Store) -> None:
    rng = random.Random(16)
    campaigns = [
        await campaign_with_voters(store, phones(70), "Fall"),
        await campaign_with_voters(store, phones(30, 100), "Spring"),
    ]
    await play_calls(store, rng, campaigns[0], 70)
    await play_calls(store, rng, campaigns[1], 30)
    rows = await execute(store, "SELECT ended_at, amd_at FROM attempts")
    recorded = [when for row in rows for when in row if isinstance(when, datetime)]
    sinces = [
        T0 - timedelta(days=30),
        T0 + timedelta(days=5),
        *(some_time(rng) for _ in range(40)),
        *(when.astimezone(UTC) for when in recorded[:20]),  # on an attempt's own time
    ]
    for campaign_id in campaigns:
        for since in sinces:
            assert await store.abandon_counts(campaign_id, since) == await old_abandon_counts(
                store, campaign_id, since
            ), f"campaign {campaign_id} since {since}"
    abandons, live = await store.abandon_counts(campaigns[0], T0 - timedelta(days=30))
    assert 0 < abandons < live, "the data has both kinds"
    [(counted,)] = await execute(store, "SELECT sum(live_answers) FROM live_answer_counts")
    ever = [await store.abandon_counts(c, T0 - timedelta(days=30)) for c in campaigns]
    assert counted == sum(live for _, live in ever), "the counters hold every live answer"


async def test_the_migration_counts_the_attempts_already_recorded(store: Store) -> None:
    rng = random.Random(4)
    campaign_id = await campaign_with_voters(store, phones(40))
    await play_calls(store, rng, campaign_id, 40)
    since = T0 - timedelta(days=30)
    expected = await old_abandon_counts(store, campaign_id, since)
    if isinstance(store, SqliteStore):
        for trigger in ("insert", "update_old", "update_new", "delete"):
            await execute(store, f"DROP TRIGGER live_answers_{trigger}")
        await execute(store, "DROP TABLE live_answer_counts")
        await execute(store, "DELETE FROM migrations WHERE version = 8")
        assert sqlite_migrations.migrate(store.db, T0) == [8]
    else:
        await execute(store, "DROP TABLE live_answer_counts")
        await execute(store, "DROP FUNCTION count_live_answers CASCADE")
        await execute(store, "DELETE FROM migrations WHERE version = 6")
        assert isinstance(store, PostgresStore)
        async with store.pool.connection() as conn:
            assert await postgres_migrations.migrate(conn, T0) == [6]
    assert await store.abandon_counts(campaign_id, since) == expected


def test_counters_answer_from_the_first_whole_hour() -> None:
    on_the_hour = datetime(2026, 3, 1, 7, tzinfo=UTC)
    assert counted_from(on_the_hour) == on_the_hour
    assert counted_from(on_the_hour + timedelta(microseconds=1)) == on_the_hour + timedelta(hours=1)
    india = on_the_hour.astimezone(ZoneInfo("Asia/Kolkata"))
    assert counted_from(india + timedelta(minutes=1)) == on_the_hour + timedelta(hours=1)
    with pytest.raises(ValueError, match="naive"):
        counted_from(datetime(2026, 3, 1, 7))
