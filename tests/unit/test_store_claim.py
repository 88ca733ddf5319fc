"""Store.claim_voters on both stores: which voters are callable, in which order, never twice."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.models import Attempt, CallState, Voter, VoterStatus
from engine.store.base import Store
from engine.store.sqlite.store import SqliteStore
from tests.unit.store_helpers import NY, T0, Row, campaign_with_voters, phones

pytestmark = pytest.mark.every_store

LA = "America/Los_Angeles"


async def claim(
    store: Store,
    campaign_id: int,
    count: int = 10,
    now: datetime = T0,
    zones: Sequence[str] = (NY,),
    max_attempts: int = 3,
) -> list[tuple[Voter, Attempt]]:
    return await store.claim_voters(campaign_id, count, now, zones, max_attempts)


async def claimed_phones(store: Store, campaign_id: int, **kwargs: Any) -> list[str]:
    return [voter.phone for voter, _ in await claim(store, campaign_id, **kwargs)]


async def test_claim_marks_voters_in_flight_and_creates_claimed_attempts(
    store: Store,
) -> None:
    campaign_id = await campaign_with_voters(store, phones(1))
    [(voter, attempt)] = await claim(store, campaign_id)
    assert (voter.status, voter.attempts) == (VoterStatus.IN_FLIGHT, 1)
    assert await store.get_voter(voter.id) == voter
    assert (attempt.state, attempt.claimed_at, attempt.voter_id, attempt.phone) == (
        CallState.CLAIMED,
        T0,
        voter.id,
        voter.phone,
    )
    assert await store.get_attempt(attempt.id) == attempt


async def test_claim_returns_at_most_count_voters(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, phones(5))
    assert len(await claim(store, campaign_id, count=2)) == 2


async def test_claim_never_returns_a_voter_in_flight(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, phones(3))
    first = await claimed_phones(store, campaign_id, count=2)
    second = await claimed_phones(store, campaign_id, count=5)
    assert second == phones(3)[2:]
    assert not set(first) & set(second)


async def test_claim_orders_by_next_attempt_nulls_first_then_import_order(
    store: Store,
) -> None:
    numbers = phones(4)
    campaign_id = await campaign_with_voters(store, numbers)
    ids = {voter.phone: voter.id for voter, _ in await claim(store, campaign_id)}
    await store.release_voter(ids[numbers[0]], VoterStatus.RETRY, T0 - timedelta(minutes=5))
    await store.release_voter(ids[numbers[1]], VoterStatus.RETRY, T0 - timedelta(minutes=9))
    await store.release_voter(ids[numbers[2]], VoterStatus.RETRY, None)
    await store.release_voter(ids[numbers[3]], VoterStatus.RETRY, None)
    assert await claimed_phones(store, campaign_id) == [
        numbers[2],
        numbers[3],
        numbers[1],
        numbers[0],
    ]


async def test_claim_skips_voters_to_retry_later(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, phones(2))
    [(voter, _)] = await claim(store, campaign_id, count=1)
    await store.release_voter(voter.id, VoterStatus.RETRY, T0 + timedelta(seconds=1))
    assert await claimed_phones(store, campaign_id) == phones(2)[1:]
    later = T0 + timedelta(seconds=1)
    assert await claimed_phones(store, campaign_id, now=later) == [voter.phone]


async def test_claim_skips_voters_out_of_attempts(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, phones(1))
    [(voter, _)] = await claim(store, campaign_id, max_attempts=1)
    await store.release_voter(voter.id, VoterStatus.RETRY)
    assert await claim(store, campaign_id, max_attempts=1) == []
    assert await claimed_phones(store, campaign_id, max_attempts=2) == [voter.phone]


async def test_claim_skips_done_and_dnc_voters(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, phones(2))
    claimed = await claim(store, campaign_id)
    await store.release_voter(claimed[0][0].id, VoterStatus.DONE)
    await store.release_voter(claimed[1][0].id, VoterStatus.DNC)
    assert await claim(store, campaign_id) == []


@pytest.mark.parametrize("scope", ["campaign", "global"])
async def test_claim_skips_a_phone_listed_while_it_was_in_flight(store: Store, scope: str) -> None:
    """add_dnc leaves in-flight voters alone, so a voter released as RETRY after its phone
    was listed must still be skipped."""
    campaign_id = await campaign_with_voters(store, phones(1))
    [(voter, _)] = await claim(store, campaign_id)
    await store.add_dnc(
        voter.phone, campaign_id if scope == "campaign" else None, "asked", "admin", T0
    )
    await store.release_voter(voter.id, VoterStatus.RETRY)
    assert await claim(store, campaign_id) == []


async def test_claim_skips_time_zones_outside_calling_hours(store: Store) -> None:
    campaign = await store.create_campaign("Fall")
    await store.add_voters(
        campaign.id,
        [
            Row("+12025550001", timezone=NY),
            Row("+12025550002", timezone=LA),
            Row("+12025550003", timezone=""),
        ],
    )
    assert await claimed_phones(store, campaign.id, zones=[LA]) == ["+12025550002"]
    assert await claimed_phones(store, campaign.id, zones=[NY, ""]) == [
        "+12025550001",
        "+12025550003",
    ]


async def test_claim_with_no_time_zones_claims_nothing(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, phones(1))
    assert await claim(store, campaign_id, zones=[]) == []


async def test_claim_takes_only_the_campaigns_voters(store: Store) -> None:
    fall = await campaign_with_voters(store, phones(2), name="Fall")
    await campaign_with_voters(store, phones(2, start=10), name="Spring")
    assert await claimed_phones(store, fall) == phones(2)


def test_concurrent_claims_never_share_a_voter(tmp_path: Path) -> None:
    """Two stores on one file (as two processes would be) claim in parallel threads.

    Each pauses a moment between claims, as the dialer does: SQLite's busy handler is not
    fair, so a store claiming in a tight loop could take every voter before the other's
    first retry, and the test would prove nothing."""
    path = tmp_path / "phonebank.db"
    setup = SqliteStore.open(path)
    campaign_id = asyncio.run(campaign_with_voters(setup, phones(300)))
    asyncio.run(setup.close())
    start = threading.Barrier(2)
    claimed: list[list[int]] = [[], []]

    def worker(index: int) -> None:
        async def run() -> None:
            store = SqliteStore.open(path)
            start.wait()
            while batch := await claim(store, campaign_id, count=1 + index * 2):
                claimed[index] += [voter.id for voter, _ in batch]
                await asyncio.sleep(0.001)  # dial them; lets the other store take the lock
            await store.close()

        asyncio.run(run())

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert claimed[0] and claimed[1]
    assert not set(claimed[0]) & set(claimed[1])
    assert len(claimed[0]) + len(claimed[1]) == 300
