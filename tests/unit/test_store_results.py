"""The stores' attempts, results (with history and export) and call statistics."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from engine.errors import NotFound
from engine.models import CallOutcome, CallState
from engine.store.base import Store
from engine.store.postgresql import results as postgres_results
from engine.store.sqlite import results as sqlite_results
from tests.unit.store_helpers import NY, T0, Row, campaign_with_voters, phones, session_for

pytestmark = pytest.mark.every_store


async def claimed(store: Store, count: int = 1) -> tuple[int, list[int]]:
    """A campaign with ``count`` claimed voters: (campaign_id, [attempt ids])."""
    campaign_id = await campaign_with_voters(store, phones(count))
    pairs = await store.claim_voters(campaign_id, count, T0, [NY], 3)
    return campaign_id, [attempt.id for _, attempt in pairs]


# --- attempts ------------------------------------------------------------------------------


async def test_update_attempt_sets_fields(store: Store) -> None:
    _, [attempt_id] = await claimed(store)
    answered = T0 + timedelta(seconds=9)
    attempt = await store.update_attempt(
        attempt_id,
        state=CallState.ENDED,
        channel_id="dialer-1",
        answered_at=answered,
        hangup_cause=16,
        outcome=CallOutcome.CONTACT,
    )
    assert (
        attempt.state,
        attempt.channel_id,
        attempt.answered_at,
        attempt.hangup_cause,
        attempt.outcome,
    ) == (CallState.ENDED, "dialer-1", answered, 16, CallOutcome.CONTACT)
    assert await store.get_attempt(attempt_id) == attempt


async def test_an_unknown_attempt_field_is_a_type_error(store: Store) -> None:
    _, [attempt_id] = await claimed(store)
    with pytest.raises(TypeError):
        await store.update_attempt(attempt_id, colour="red")  # type: ignore[call-arg]


async def test_unknown_attempt_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.get_attempt(42)
    with pytest.raises(NotFound):
        await store.update_attempt(42, state=CallState.ENDED)


async def test_attempt_by_channel(store: Store) -> None:
    _, [attempt_id] = await claimed(store)
    await store.update_attempt(attempt_id, channel_id="dialer-1")
    found = await store.attempt_by_channel("dialer-1")
    assert found is not None and found.id == attempt_id
    assert await store.attempt_by_channel("dialer-2") is None


async def test_open_attempts_are_those_not_ended(store: Store) -> None:
    _, [first, second] = await claimed(store, 2)
    await store.update_attempt(first, state=CallState.ENDED)
    assert [a.id for a in await store.open_attempts()] == [second]


async def test_list_attempts_of_a_campaign(store: Store) -> None:
    campaign_id, ids = await claimed(store, 2)
    spring = await campaign_with_voters(store, phones(1, start=50), name="Spring")
    await store.claim_voters(spring, 1, T0, [NY], 3)
    assert [a.id for a in await store.list_attempts(campaign_id)] == ids


# --- results -------------------------------------------------------------------------------


async def test_first_save_creates_the_result_from_attempt_and_session(store: Store) -> None:
    campaign_id, [attempt_id] = await claimed(store)
    session_id = await session_for(store, campaign_id)
    result = await store.save_result(attempt_id, session_id, "talked", {"q1": "y"}, "nice", T0)
    attempt = await store.get_attempt(attempt_id)
    session = await store.get_session(session_id)
    assert (result.voter_id, result.campaign_id, result.volunteer_id) == (
        attempt.voter_id,
        campaign_id,
        session.volunteer_id,
    )
    assert (
        result.term_code,
        result.answers,
        result.notes,
        result.created_at,
        result.updated_at,
    ) == ("talked", {"q1": "y"}, "nice", T0, T0)
    assert await store.result_for_attempt(attempt_id) == result


async def test_saving_again_edits_the_result_and_keeps_the_old_version(store: Store) -> None:
    campaign_id, [attempt_id] = await claimed(store)
    session_id = await session_for(store, campaign_id)
    first = await store.save_result(attempt_id, session_id, "talked", {"q1": "y"}, "", T0)
    later = T0 + timedelta(minutes=5)
    edited = await store.save_result(attempt_id, session_id, "remove", {}, "asked", later)
    assert edited.id == first.id
    assert (
        edited.term_code,
        edited.answers,
        edited.notes,
        edited.created_at,
        edited.updated_at,
    ) == ("remove", {}, "asked", T0, later)
    assert await store.result_history(first.id) == [
        {
            "term_code": "talked",
            "answers": {"q1": "y"},
            "notes": "",
            "session_id": session_id,
            "volunteer_id": first.volunteer_id,
            "updated_at": T0,
            "status": "final",
            "edited_at": later,
        }
    ]


async def test_no_result_before_the_first_save(store: Store) -> None:
    _, [attempt_id] = await claimed(store)
    assert await store.result_for_attempt(attempt_id) is None


async def test_saving_a_result_for_an_unknown_attempt_is_not_found(store: Store) -> None:
    campaign_id, _ = await claimed(store)
    session_id = await session_for(store, campaign_id)
    with pytest.raises(NotFound):
        await store.save_result(42, session_id, "talked", {}, "", T0)


# --- export --------------------------------------------------------------------------------


async def test_export_row_has_voter_extra_and_call_fields(store: Store) -> None:
    campaign = await store.create_campaign("Fall")
    await store.add_voters(
        campaign.id,
        [
            Row(
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
            )
        ],
    )
    [(_, attempt)] = await store.claim_voters(campaign.id, 1, T0, [NY], 3)
    await store.update_attempt(
        attempt.id,
        outcome=CallOutcome.CONTACT,
        answered_at=T0,
        bridged_at=T0,
        ended_at=T0 + timedelta(minutes=2),
    )
    session_id = await session_for(store, campaign.id)
    await store.save_result(attempt.id, session_id, "talked", {"q1": "y"}, "nice", T0)
    rows = [row async for row in store.results(campaign.id)]
    assert rows == [
        {
            "first_name": "Ann",
            "last_name": "Lee",
            "phone": "+12025550001",
            "address": "1 Main St",
            "city": "Washington",
            "state": "DC",
            "zip": "20001",
            "party": "DEM",
            "age": 44,
            "ward": "6",
            "outcome": "contact",
            "answered_at": T0.isoformat(timespec="microseconds"),
            "bridged_at": T0.isoformat(timespec="microseconds"),
            "ended_at": (T0 + timedelta(minutes=2)).isoformat(timespec="microseconds"),
            "term_code": "talked",
            "answers": json.dumps({"q1": "y"}),
            "notes": "nice",
            "volunteer": "Ann",
            "updated_at": T0.isoformat(timespec="microseconds"),
        }
    ]


async def test_export_rows_share_the_same_keys_when_extra_fields_differ(store: Store) -> None:
    campaign = await store.create_campaign("Fall")
    await store.add_voters(
        campaign.id,
        [Row("+12025550001", extra={"ward": "6"}), Row("+12025550002", extra={"email": "b@x"})],
    )
    session_id = await session_for(store, campaign.id)
    for _, attempt in await store.claim_voters(campaign.id, 2, T0, [NY], 3):
        await store.save_result(attempt.id, session_id, "talked", {}, "", T0)
    rows = [row async for row in store.results(campaign.id)]
    assert [list(row)[9:11] for row in rows] == [["ward", "email"], ["ward", "email"]]
    assert [(row["ward"], row["email"]) for row in rows] == [("6", ""), ("", "b@x")]


async def test_export_reads_page_after_page(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_results, "_PAGE", 2)
    monkeypatch.setattr(postgres_results, "_PAGE", 2)
    campaign_id, attempt_ids = await claimed(store, 5)
    session_id = await session_for(store, campaign_id)
    for attempt_id in attempt_ids:
        await store.save_result(attempt_id, session_id, "talked", {}, "", T0)
    rows = [row async for row in store.results(campaign_id)]
    assert [row["phone"] for row in rows] == phones(5)


# --- statistics ----------------------------------------------------------------------------


async def ended(
    store: Store, attempt_id: int, outcome: CallOutcome, at: datetime, verdict: str = "HUMAN"
) -> None:
    await store.update_attempt(
        attempt_id, state=CallState.ENDED, outcome=outcome, ended_at=at, amd_verdict=verdict
    )


async def test_abandon_counts_count_live_answers_since(store: Store) -> None:
    campaign_id, ids = await claimed(store, 6)
    await ended(store, ids[0], CallOutcome.ABANDONED, T0)
    await ended(store, ids[1], CallOutcome.CONTACT, T0)
    await ended(store, ids[2], CallOutcome.MACHINE, T0, "MACHINE")
    await ended(store, ids[3], CallOutcome.ABANDONED, T0 - timedelta(days=31))
    await ended(store, ids[4], CallOutcome.CONTACT, T0, verdict="")  # a preview call
    assert await store.abandon_counts(campaign_id, T0 - timedelta(days=30)) == (1, 2)


async def test_a_live_answer_still_on_the_line_counts_from_its_amd_verdict(
    store: Store,
) -> None:
    campaign_id, [attempt_id] = await claimed(store)
    await store.update_attempt(
        attempt_id,
        state=CallState.CONNECTED,
        amd_at=T0,
        amd_verdict="HUMAN",
        outcome=CallOutcome.CONTACT,
    )
    assert await store.abandon_counts(campaign_id, T0) == (0, 1)
    assert await store.abandon_counts(campaign_id, T0 + timedelta(seconds=1)) == (0, 0)


async def test_abandon_counts_are_zero_without_calls(store: Store) -> None:
    campaign_id, _ = await claimed(store)
    assert await store.abandon_counts(campaign_id, T0) == (0, 0)


async def test_outcome_counts_since(store: Store) -> None:
    campaign_id, ids = await claimed(store, 4)
    await ended(store, ids[0], CallOutcome.BUSY, T0)
    await ended(store, ids[1], CallOutcome.BUSY, T0 + timedelta(seconds=1))
    await ended(store, ids[2], CallOutcome.NO_ANSWER, T0)
    await ended(store, ids[3], CallOutcome.BUSY, T0 - timedelta(seconds=1))
    counts = await store.outcome_counts(campaign_id, T0)
    assert counts == {
        **dict.fromkeys(CallOutcome, 0),
        CallOutcome.BUSY: 2,
        CallOutcome.NO_ANSWER: 1,
    }
