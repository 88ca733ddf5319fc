"""The abandon budget shared by engines: two stores (two engines' pools) recording outcomes
on one campaign at the same time, and the counters add up to every call."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from engine.models import CallOutcome, CallState
from engine.store.postgresql.store import PostgresStore
from tests.unit.store_helpers import NY, T0, campaign_with_voters, phones


async def test_two_engines_recording_outcomes_at_once_count_every_call(cluster_dsn: str) -> None:
    first = await PostgresStore.open(cluster_dsn, pool_size=(4, 4))
    second = await PostgresStore.open(cluster_dsn, pool_size=(4, 4))
    try:
        campaign_id = await campaign_with_voters(first, phones(200))
        pairs = await first.claim_voters(campaign_id, 200, T0, [NY], 3)

        async def record(store: PostgresStore, attempt_id: int) -> None:
            outcome = CallOutcome.ABANDONED if attempt_id % 4 == 0 else CallOutcome.CONTACT
            await store.update_attempt(
                attempt_id,
                state=CallState.ENDED,
                amd_at=T0,
                amd_verdict="HUMAN",
                outcome=outcome,
                ended_at=T0 + timedelta(seconds=attempt_id % 7),  # one hour, one counter row
            )

        await asyncio.gather(
            *(
                record(first if n % 2 else second, attempt.id)
                for n, (_, attempt) in enumerate(pairs)
            )
        )
        abandons = sum(1 for _, attempt in pairs if attempt.id % 4 == 0)
        for store in (first, second):
            assert await store.abandon_counts(campaign_id, T0 - timedelta(days=30)) == (
                abandons,
                200,
            )
    finally:
        await first.close()
        await second.close()
