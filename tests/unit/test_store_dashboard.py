"""The stores' live numbers: what the dashboard, pacing and the idle message read (attempts
per hour, calls in flight and placed, people on the line, ended attempts, the learned pacing,
voters by reason and zone, the volunteers on shift), on both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.models import AudioMode, CallOutcome, CallState, SessionState, VoterStatus
from engine.store.base import Store
from tests.unit.store_helpers import NY, T0, Row, campaign_with_voters, phones, session_for

pytestmark = pytest.mark.every_store

LA = "America/Los_Angeles"


async def ended_calls(store: Store, campaign_id: int, ends: list[int | None]) -> list[int]:
    """Claim one voter per entry and end its call that many minutes after T0 (None: the call
    is still on, a live answer talking); odd minutes are contacts. The attempts' ids."""
    ids = []
    for minutes in ends:
        [(_, attempt)] = await store.claim_voters(campaign_id, 1, T0, [NY], 9)
        if minutes is None:
            await store.update_attempt(
                attempt.id, state=CallState.CONNECTED, amd_verdict="HUMAN", amd_at=T0
            )
        else:
            outcome = CallOutcome.CONTACT if minutes % 2 else CallOutcome.NO_ANSWER
            await store.update_attempt(
                attempt.id,
                state=CallState.ENDED,
                originated_at=T0,
                ended_at=T0 + timedelta(minutes=minutes),
                outcome=outcome,
            )
        ids.append(attempt.id)
    return ids


async def test_attempts_by_hour_and_in_flight(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, phones(6))
    await ended_calls(store, campaign_id, [1, 2, 61, 125, None])
    hours = await store.attempts_by_hour(campaign_id, T0)
    assert [(h.hour, h.attempts, h.contacts) for h in hours] == [
        (T0, 2, 1),
        (T0 + timedelta(hours=1), 1, 1),
        (T0 + timedelta(hours=2), 1, 1),
    ]
    assert hours[0].hour.tzinfo == T0.tzinfo
    assert await store.attempts_in_flight(campaign_id) == 1
    assert await store.calls_placed(campaign_id, T0) == 4
    assert await store.calls_placed(campaign_id, T0 + timedelta(minutes=1)) == 0


async def test_ended_attempts_page_by_end_time_then_id(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, phones(4))
    ids = await ended_calls(store, campaign_id, [5, 3, 3, None])
    first = await store.ended_attempts(campaign_id, None, 2)
    assert [a.id for a in first] == [ids[1], ids[2]]
    rest = await store.ended_attempts(campaign_id, first[0].ended_at, 10, after_id=ids[1])
    assert [a.id for a in rest] == [ids[2], ids[0]]


async def test_the_learned_pacing_is_kept_per_campaign(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, [])
    assert await store.load_pacing(campaign_id) is None
    await store.save_pacing(campaign_id, '{"a": 1}', T0)
    await store.save_pacing(campaign_id, '{"a": 2}', T0 + timedelta(minutes=1))
    assert await store.load_pacing(campaign_id) == '{"a": 2}'


async def test_voters_are_tallied_by_the_reason_they_can_be_called_or_not(store: Store) -> None:
    campaign = await store.create_campaign("Fall")
    await store.add_voters(
        campaign.id, [Row(phone) for phone in phones(4)] + [Row(phones(1, 10)[0], timezone=LA)]
    )
    [(retry, _), (done, _)] = await store.claim_voters(campaign.id, 2, T0, [NY], 3)
    await store.release_voter(retry.id, VoterStatus.RETRY, T0 + timedelta(hours=1))
    await store.release_voter(done.id, VoterStatus.DONE)
    await store.add_dnc(phones(1, 2)[0], None, "asked", "admin", T0)
    tallies = {
        (t.status, t.zone, t.exhausted, t.on_dnc, t.waiting_until, t.count)
        for t in await store.voter_tallies(campaign.id, T0, max_attempts=3)
    }
    assert tallies == {
        (VoterStatus.RETRY, NY, False, False, T0 + timedelta(hours=1), 1),
        (VoterStatus.DONE, NY, False, False, None, 1),
        (VoterStatus.DNC, NY, False, False, None, 1),
        (VoterStatus.PENDING, NY, False, False, None, 1),
        (VoterStatus.PENDING, LA, False, False, None, 1),
    }
    assert await store.voter_zones(campaign.id) == {NY: 4, LA: 1}


async def test_the_volunteers_on_shift_with_their_results_this_session(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, phones(3))
    ann = await session_for(store, campaign_id, "1111", "ann@example.org")
    bea = await session_for(store, campaign_id, "2222", "bea@example.org")
    gone = await session_for(store, campaign_id, "3333", "cy@example.org")
    await store.update_session(gone, state=SessionState.LOGGED_OUT)
    await store.update_session(bea, channel_id="PJSIP/bea", state=SessionState.READY)
    for session_id, code in ((ann, "talked"), (ann, "talked"), (bea, "no_contact")):
        [(_, attempt)] = await store.claim_voters(campaign_id, 1, T0, [NY], 3)
        await store.save_result(attempt.id, session_id, code, {}, "", T0 + timedelta(minutes=1))
    shift = await store.volunteers_on_shift(campaign_id)
    assert [(row.session_id, row.phone, row.results_by_code) for row in shift] == [
        (ann, False, {"talked": 2}),
        (bea, True, {"no_contact": 1}),
    ]
    assert (shift[1].state, shift[1].audio_mode) == (SessionState.READY, AudioMode.PHONE)
    assert shift[1].state_since.tzinfo == T0.tzinfo
