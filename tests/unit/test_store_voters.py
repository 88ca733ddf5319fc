"""The stores' voters: import and merging, counts, release."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from engine.errors import NotFound
from engine.models import Voter, VoterDetails, VoterStatus
from engine.store.base import Store
from tests.unit.store_helpers import NY, T0, Row, execute, phones

pytestmark = pytest.mark.every_store


@pytest.fixture
async def campaign_id(store: Store) -> int:
    return (await store.create_campaign("Fall")).id


async def only_voter(store: Store, campaign_id: int) -> Voter:
    [(voter_id,)] = await execute(
        store, "SELECT id FROM voters WHERE campaign_id = ?", [campaign_id]
    )
    return await store.get_voter(int(voter_id))


async def test_add_voters_stores_every_field(store: Store, campaign_id: int) -> None:
    row = Row(
        "+12025550001",
        first_name="Ann",
        last_name="Lee",
        address="1 Main St",
        city="Washington",
        state="DC",
        zip="20001",
        party="DEM",
        age=44,
        extra={"ward": "6"},
        timezone=NY,
        source_line=2,
    )
    assert await store.add_voters(campaign_id, [row]) == (1, 0)
    voter = await only_voter(store, campaign_id)
    assert voter == Voter(
        id=voter.id,
        campaign_id=campaign_id,
        phone="+12025550001",
        first_name="Ann",
        last_name="Lee",
        address="1 Main St",
        city="Washington",
        state="DC",
        zip="20001",
        party="DEM",
        age=44,
        extra={"ward": "6"},
        timezone=NY,
        status=VoterStatus.PENDING,
        attempts=0,
        next_attempt_at=None,
        source_line=2,
    )


async def test_a_known_phone_is_merged_not_inserted(store: Store, campaign_id: int) -> None:
    await store.add_voters(campaign_id, [Row(p) for p in phones(3)])
    assert await store.add_voters(campaign_id, [Row(p) for p in phones(4, start=1)]) == (2, 2)
    assert (await store.voter_counts(campaign_id))[VoterStatus.PENDING] == 5


async def test_merging_fills_blank_fields_and_adds_extra_keys(
    store: Store, campaign_id: int
) -> None:
    await store.add_voters(
        campaign_id,
        [Row("+12025550001", first_name="Ann", extra={"ward": "6", "precinct": ""}, timezone="")],
    )
    await store.add_voters(
        campaign_id,
        [
            Row(
                "+12025550001",
                first_name="Annie",
                last_name="Lee",
                age=44,
                extra={"ward": "7", "precinct": "12", "email": "a@x.org"},
            )
        ],
    )
    voter = await only_voter(store, campaign_id)
    assert (voter.first_name, voter.last_name, voter.age, voter.timezone) == ("Ann", "Lee", 44, NY)
    assert voter.extra == {"ward": "6", "precinct": "12", "email": "a@x.org"}


async def test_merging_keeps_status_and_attempts(store: Store, campaign_id: int) -> None:
    await store.add_voters(campaign_id, [Row("+12025550001")])
    voter = await only_voter(store, campaign_id)
    await execute(store, "UPDATE voters SET status = 'done', attempts = 2 WHERE id = ?", [voter.id])
    await store.add_voters(campaign_id, [Row("+12025550001", first_name="Ann")])
    merged = await store.get_voter(voter.id)
    assert (merged.status, merged.attempts, merged.first_name) == (VoterStatus.DONE, 2, "Ann")


async def test_a_phone_repeated_in_one_call_counts_as_merged(
    store: Store, campaign_id: int
) -> None:
    rows = [Row("+12025550001", first_name="Ann"), Row("+12025550001", last_name="Lee")]
    assert await store.add_voters(campaign_id, rows) == (1, 1)
    voter = await only_voter(store, campaign_id)
    assert (voter.first_name, voter.last_name) == ("Ann", "Lee")


async def test_a_phone_repeated_in_a_later_batch_is_merged(store: Store, campaign_id: int) -> None:
    numbers = phones(700)
    rows = [Row(p) for p in numbers] + [Row(numbers[0], first_name="Ann")]
    assert await store.add_voters(campaign_id, rows) == (700, 1)
    voter = (await store.claim_voters(campaign_id, 1, T0, [NY], 3))[0][0]
    assert voter.first_name == "Ann"


async def test_add_voters_is_all_or_nothing(store: Store, campaign_id: int) -> None:
    def rows() -> Iterator[VoterDetails]:
        yield from (Row(p) for p in phones(600))
        raise OSError("file vanished")

    with pytest.raises(OSError):
        await store.add_voters(campaign_id, rows())
    assert sum((await store.voter_counts(campaign_id)).values()) == 0


async def test_voters_on_the_campaign_dnc_list_are_imported_as_dnc(
    store: Store, campaign_id: int
) -> None:
    await store.add_dnc("+12025550001", campaign_id, "asked", "admin", T0)
    await store.add_voters(campaign_id, [Row(p) for p in phones(3)])
    counts = await store.voter_counts(campaign_id)
    assert (counts[VoterStatus.DNC], counts[VoterStatus.PENDING]) == (1, 2)


async def test_voters_on_the_global_dnc_list_are_imported_as_dnc(
    store: Store, campaign_id: int
) -> None:
    await store.add_dnc("+12025550001", None, "asked", "admin", T0)
    await store.add_voters(campaign_id, [Row("+12025550001")])
    assert (await only_voter(store, campaign_id)).status == VoterStatus.DNC


async def test_another_campaigns_dnc_list_does_not_apply(store: Store, campaign_id: int) -> None:
    other = await store.create_campaign("Spring")
    await store.add_dnc("+12025550001", other.id, "asked", "admin", T0)
    await store.add_voters(campaign_id, [Row("+12025550001")])
    assert (await only_voter(store, campaign_id)).status == VoterStatus.PENDING


async def test_add_voters_to_an_unknown_campaign_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.add_voters(42, [Row("+12025550001")])


async def test_voter_counts_list_every_status(store: Store, campaign_id: int) -> None:
    await store.add_voters(campaign_id, [Row(p) for p in phones(2)])
    assert await store.voter_counts(campaign_id) == {
        VoterStatus.PENDING: 2,
        VoterStatus.IN_FLIGHT: 0,
        VoterStatus.RETRY: 0,
        VoterStatus.DONE: 0,
        VoterStatus.DNC: 0,
    }


async def test_release_voter_sets_status_and_next_attempt(store: Store, campaign_id: int) -> None:
    await store.add_voters(campaign_id, [Row("+12025550001")])
    voter = await only_voter(store, campaign_id)
    later = T0 + timedelta(hours=1)
    await store.release_voter(voter.id, VoterStatus.RETRY, later)
    released = await store.get_voter(voter.id)
    assert (released.status, released.next_attempt_at) == (VoterStatus.RETRY, later)


async def test_release_voter_can_refund_the_attempt_a_failure_of_ours_used(
    store: Store, campaign_id: int
) -> None:
    await store.add_voters(campaign_id, [Row("+12025550001")])
    [(voter, _)] = await store.claim_voters(campaign_id, 1, T0, {"", NY}, 3)
    assert (await store.get_voter(voter.id)).attempts == 1
    await store.release_voter(voter.id, VoterStatus.RETRY, T0, refund_attempt=True)
    assert (await store.get_voter(voter.id)).attempts == 0


async def test_unknown_voter_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.get_voter(42)
    with pytest.raises(NotFound):
        await store.release_voter(42, VoterStatus.DONE)
