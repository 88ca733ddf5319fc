"""Voters' line types in the store: imported, merged, and the claim filter that keeps the
automatic dialer to its line types and preview to the others."""

from __future__ import annotations

import io

from engine.models import VoterStatus
from engine.store.sqlite.store import SqliteStore
from engine.voters.importer import import_voters
from engine.voters.line_types import LANDLINE, MOBILE, UNKNOWN
from tests.unit.store_helpers import NY, T0, Row

PHONES = {MOBILE: "+12025550001", LANDLINE: "+12025550002", UNKNOWN: "+12025550003"}


async def mixed_campaign(store: SqliteStore, copies: int = 1) -> int:
    campaign = await store.create_campaign("Mixed")
    rows = [
        Row(f"{phone[:-1]}{n}{phone[-1]}", line_type=kind)
        for n in range(copies)
        for kind, phone in PHONES.items()
    ]
    await store.add_voters(campaign.id, rows)
    return campaign.id


async def claimed_types(
    store: SqliteStore, campaign_id: int, line_types: frozenset[str] | None, count: int = 10
) -> list[str]:
    claimed = await store.claim_voters(campaign_id, count, T0, [NY], 3, line_types)
    return [voter.line_type for voter, _ in claimed]


async def test_claim_without_line_types_takes_any(store: SqliteStore) -> None:
    campaign_id = await mixed_campaign(store)
    assert sorted(await claimed_types(store, campaign_id, None)) == ["", "landline", "mobile"]


async def test_claim_takes_only_the_line_types_asked_for(store: SqliteStore) -> None:
    campaign_id = await mixed_campaign(store, copies=3)
    assert await claimed_types(store, campaign_id, frozenset({LANDLINE})) == [LANDLINE] * 3
    previewed = await claimed_types(store, campaign_id, frozenset({MOBILE, UNKNOWN}))
    assert previewed == [MOBILE, UNKNOWN] * 3


async def test_an_empty_set_of_line_types_claims_nobody(store: SqliteStore) -> None:
    campaign_id = await mixed_campaign(store)
    assert await claimed_types(store, campaign_id, frozenset()) == []
    counts = await store.voter_counts(campaign_id)
    assert counts[VoterStatus.PENDING] == 3


async def test_the_line_type_filter_respects_count_and_the_other_rules(store: SqliteStore) -> None:
    campaign_id = await mixed_campaign(store, copies=4)
    await store.add_dnc(PHONES[MOBILE][:-1] + "0" + PHONES[MOBILE][-1], None, "", "t", T0)
    assert await claimed_types(store, campaign_id, frozenset({MOBILE}), count=2) == [MOBILE] * 2
    assert await claimed_types(store, campaign_id, frozenset({MOBILE})) == [MOBILE]  # 1 on DNC


async def test_a_voter_claimed_for_preview_is_in_flight_for_every_other_claim(
    store: SqliteStore,
) -> None:
    campaign_id = await mixed_campaign(store)
    [(voter, _)] = await store.claim_voters(
        campaign_id, 1, T0, [NY], 3, frozenset({MOBILE, UNKNOWN})
    )
    assert voter.line_type == MOBILE
    assert (await store.get_voter(voter.id)).status == VoterStatus.IN_FLIGHT
    assert await claimed_types(store, campaign_id, None) == [LANDLINE, UNKNOWN]


async def test_import_stores_each_voters_line_type_and_counts_them(store: SqliteStore) -> None:
    campaign = await store.create_campaign("List")
    csv = (
        "phone,phone_type\n"
        "+12025550101,cell\n+12025550102,landline\n+12025550103,\n+447911123456,\n"
    )
    summary = await import_voters(store, campaign.id, io.BytesIO(csv.encode()))
    assert summary.line_types == {"mobile": 2, "landline": 1, "unknown": 1}
    claimed = await store.claim_voters(campaign.id, 10, T0, ["", NY, "Europe/London"], 3)
    assert {v.phone: v.line_type for v, _ in claimed} == {
        "+12025550101": MOBILE,
        "+12025550102": LANDLINE,
        "+12025550103": UNKNOWN,
        "+447911123456": MOBILE,
    }


async def test_a_merge_fills_a_blank_line_type_and_keeps_a_known_one(store: SqliteStore) -> None:
    campaign = await store.create_campaign("Merge")
    await store.add_voters(
        campaign.id, [Row("+12025550201"), Row("+12025550202", line_type=LANDLINE)]
    )
    await store.add_voters(
        campaign.id,
        [Row("+12025550201", line_type=MOBILE), Row("+12025550202", line_type=MOBILE)],
    )
    claimed = await store.claim_voters(campaign.id, 10, T0, [NY], 3)
    assert {v.phone: v.line_type for v, _ in claimed} == {
        "+12025550201": MOBILE,
        "+12025550202": LANDLINE,
    }
