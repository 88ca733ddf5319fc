"""The stores' do-not-call lists: per campaign and global."""

from __future__ import annotations

import pytest

from engine.errors import NotFound
from engine.models import DncEntry, VoterStatus
from engine.store.base import Store
from tests.unit.store_helpers import NY, T0, campaign_with_voters, phones

pytestmark = pytest.mark.every_store

PHONE = phones(1)[0]


async def statuses(store: Store, campaign_id: int) -> dict[VoterStatus, int]:
    counts = await store.voter_counts(campaign_id)
    return {status: n for status, n in counts.items() if n}


async def test_adding_a_phone_twice_keeps_one_entry(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, [])
    await store.add_dnc(PHONE, campaign_id, "asked", "ann", T0)
    await store.add_dnc(PHONE, campaign_id, "again", "bob", T0)
    assert await store.list_dnc(campaign_id) == [
        DncEntry(PHONE, campaign_id, "asked", T0, "ann", "ann")
    ]


async def test_the_global_list_is_separate_from_the_campaign_list(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, [])
    await store.add_dnc(PHONE, None, "asked", "admin", T0)
    await store.add_dnc(PHONE, None, "asked", "admin", T0)
    assert await store.list_dnc() == [DncEntry(PHONE, None, "asked", T0, "admin", "admin")]
    assert await store.list_dnc(campaign_id) == []


async def test_listing_a_phone_marks_the_campaigns_pending_and_retry_voters(
    store: Store,
) -> None:
    campaign_id = await campaign_with_voters(store, phones(2))
    [(voter, _)] = await store.claim_voters(campaign_id, 1, T0, [NY], 3)
    await store.release_voter(voter.id, VoterStatus.RETRY)
    await store.add_dnc(phones(2)[0], campaign_id, "asked", "ann", T0)
    await store.add_dnc(phones(2)[1], campaign_id, "asked", "ann", T0)
    assert await statuses(store, campaign_id) == {VoterStatus.DNC: 2}


async def test_a_campaign_listing_leaves_other_campaigns_alone(store: Store) -> None:
    fall = await campaign_with_voters(store, [PHONE], name="Fall")
    spring = await campaign_with_voters(store, [PHONE], name="Spring")
    await store.add_dnc(PHONE, fall, "asked", "ann", T0)
    assert await statuses(store, spring) == {VoterStatus.PENDING: 1}


async def test_a_global_listing_marks_voters_in_every_campaign(store: Store) -> None:
    fall = await campaign_with_voters(store, [PHONE], name="Fall")
    spring = await campaign_with_voters(store, [PHONE], name="Spring")
    await store.add_dnc(PHONE, None, "asked", "admin", T0)
    assert await statuses(store, fall) == await statuses(store, spring) == {VoterStatus.DNC: 1}


async def test_listing_leaves_voters_in_flight_or_done(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, phones(2))
    flying, done = await store.claim_voters(campaign_id, 2, T0, [NY], 3)
    await store.release_voter(done[0].id, VoterStatus.DONE)
    for voter, _ in (flying, done):
        await store.add_dnc(voter.phone, None, "asked", "admin", T0)
    assert await statuses(store, campaign_id) == {VoterStatus.IN_FLIGHT: 1, VoterStatus.DONE: 1}


async def test_listing_for_an_unknown_campaign_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.add_dnc(PHONE, 42, "asked", "ann", T0)


async def test_removing_a_phone_does_not_resurrect_its_voters(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, [PHONE])
    await store.add_dnc(PHONE, campaign_id, "asked", "ann", T0)
    assert await store.remove_dnc(PHONE, campaign_id) is True
    assert not await store.is_dnc(PHONE, campaign_id)
    assert await statuses(store, campaign_id) == {VoterStatus.DNC: 1}


async def test_remove_dnc_says_whether_the_phone_was_listed(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, [])
    await store.add_dnc(PHONE, None, "asked", "admin", T0)
    assert await store.remove_dnc(PHONE, campaign_id) is False
    assert await store.remove_dnc(PHONE, None) is True
    assert await store.remove_dnc(PHONE, None) is False


async def test_is_dnc_checks_the_campaign_and_the_global_list(store: Store) -> None:
    fall = await campaign_with_voters(store, [], name="Fall")
    spring = await campaign_with_voters(store, [], name="Spring")
    await store.add_dnc(phones(1)[0], fall, "asked", "ann", T0)
    await store.add_dnc(phones(1, start=1)[0], None, "asked", "admin", T0)
    assert [await store.is_dnc(p, fall) for p in phones(3)] == [True, True, False]
    assert [await store.is_dnc(p, spring) for p in phones(3)] == [False, True, False]


async def test_dnc_phones_joins_the_campaign_and_global_lists(store: Store) -> None:
    fall = await campaign_with_voters(store, [], name="Fall")
    spring = await campaign_with_voters(store, [], name="Spring")
    await store.add_dnc(phones(1)[0], fall, "asked", "ann", T0)
    await store.add_dnc(phones(1, start=1)[0], None, "asked", "admin", T0)
    await store.add_dnc(phones(1, start=2)[0], spring, "asked", "ann", T0)
    assert await store.dnc_phones(fall) == set(phones(2))


async def test_adding_many_counts_only_the_new_ones_and_keeps_their_order(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, phones(3))
    await store.add_dnc(phones(1, 1)[0], campaign_id, "asked", "ann", T0)
    given = [phones(1, 2)[0], phones(1, 1)[0], phones(1, 0)[0], phones(1, 2)[0]]
    assert await store.add_dnc_many(given, campaign_id, "list", "admin", T0) == 2
    assert [entry.phone for entry in await store.list_dnc(campaign_id)] == [
        phones(1, 1)[0],
        phones(1, 2)[0],
        phones(1, 0)[0],
    ]
    assert await statuses(store, campaign_id) == {VoterStatus.DNC: 3}
    with pytest.raises(NotFound):
        await store.add_dnc_many(given, 99, "list", "admin", T0)
