"""Issue 14 item 2: why nobody can be called now and when calling resumes (pure logic), and
the store's grouped counts it starts from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.dialer.availability import Availability, IdleReason, explain
from engine.dialer.resume_times import local_clock, next_open
from engine.models import CallOutcome, CallState, Campaign, VoterStatus
from engine.store.base import VoterTally
from engine.store.sqlite.store import SqliteStore
from engine.voters.calling_hours import zones_open_now
from tests.unit.store_helpers import Row, phones

NY = "America/New_York"
LA = "America/Los_Angeles"
EASTERN = ZoneInfo(NY)


def tally(
    zone: str = NY,
    count: int = 1,
    status: VoterStatus = VoterStatus.PENDING,
    *,
    waiting_until: datetime | None = None,
    exhausted: bool = False,
    on_dnc: bool = False,
) -> VoterTally:
    return VoterTally(status, zone, exhausted, on_dnc, waiting_until, count)


def run(
    tallies: list[VoterTally],
    now: datetime,
    zone: ZoneInfo = EASTERN,
    **settings: object,
) -> Availability:
    campaign = Campaign(id=1, name="Fall", **settings)  # type: ignore[arg-type]
    open_zones = zones_open_now(campaign.calling_hours_start, campaign.calling_hours_end, now)
    return explain(campaign, tallies, zone, now, open_zones)


def test_everyone_outside_hours_gives_the_opening_in_the_voters_zone_and_the_campaigns() -> None:
    now = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)  # 10 p.m. in New York
    found = run([tally(count=40)], now)
    assert found.reason == IdleReason.OUTSIDE_HOURS
    assert found.resumes_at == datetime(2026, 1, 15, 14, 0, tzinfo=UTC)
    assert found.counts["outside_hours"] == 40 and found.counts["callable_now"] == 0
    assert found.message == (
        "Every voter left is outside calling hours now. Calling resumes at 9:00 a.m. in the "
        "voters' time zones (the first at 9:00 a.m. EST tomorrow)."
    )


def test_the_first_zone_to_open_sets_the_resume_time_on_the_campaign_clock() -> None:
    now = datetime(2026, 1, 15, 6, 0, tzinfo=UTC)  # 1 a.m. New York, 10 p.m. Los Angeles
    found = run([tally(LA, 5), tally(NY, 2)], now, ZoneInfo(LA))
    assert found.resumes_at == datetime(2026, 1, 15, 14, 0, tzinfo=UTC)
    assert "(the first at 6:00 a.m. PST tomorrow)" in found.message


def test_the_opening_follows_daylight_saving_time() -> None:
    now = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # midnight EST; clocks go forward at 2 a.m.
    found = run([tally()], now)
    assert found.resumes_at == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)  # 9 a.m. EDT
    assert "9:00 a.m. EDT" in found.message


def test_voters_of_unknown_zone_wait_until_hawaii_to_the_east_coast_are_within_hours() -> None:
    now = datetime(2026, 1, 15, 6, 0, tzinfo=UTC)
    assert next_open("", "09:00", "21:00", now) == datetime(2026, 1, 15, 19, 0, tzinfo=UTC)


def test_an_open_zone_is_open_at_once() -> None:
    now = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)
    assert next_open(NY, "09:00", "21:00", now) == now


def test_voters_waiting_for_their_retry_give_the_next_retry_time() -> None:
    now = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)  # 1 p.m. in New York
    retry = datetime(2026, 1, 15, 20, 40, tzinfo=UTC)
    found = run([tally(count=3, status=VoterStatus.RETRY, waiting_until=retry)], now)
    assert found.reason == IdleReason.WAITING_FOR_RETRY
    assert found.resumes_at == retry
    assert found.message.endswith("The next voters can be called again at 3:40 p.m. EST.")


def test_a_retry_time_after_hours_waits_for_the_next_opening() -> None:
    now = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)
    retry = datetime(2026, 1, 16, 2, 30, tzinfo=UTC)  # 9:30 p.m. in New York
    found = run([tally(status=VoterStatus.RETRY, waiting_until=retry)], now)
    assert found.resumes_at == datetime(2026, 1, 16, 14, 0, tzinfo=UTC)


def test_mixed_reasons_name_the_main_one_and_the_soonest_time() -> None:
    now = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)
    retry = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)
    found = run(
        [
            tally(count=10),
            tally(count=3, status=VoterStatus.RETRY, waiting_until=retry),
            tally(count=7, status=VoterStatus.DONE),
        ],
        now,
    )
    assert found.reason == IdleReason.OUTSIDE_HOURS
    assert found.resumes_at == datetime(2026, 1, 15, 14, 0, tzinfo=UTC)  # hours open first
    assert found.message.startswith("Most voters left are outside calling hours now")
    assert found.counts == {
        "callable_now": 0,
        "outside_hours": 10,
        "waiting_for_retry": 3,
        "being_called": 0,
        "do_not_call": 0,
        "finished": 7,
    }


def test_a_finished_list_says_so() -> None:
    now = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)
    found = run(
        [
            tally(count=8, status=VoterStatus.DONE),
            tally(count=2, status=VoterStatus.RETRY, exhausted=True),
            tally(count=1, status=VoterStatus.DNC),
        ],
        now,
    )
    assert found.reason == IdleReason.FINISHED
    assert found.message == "Everyone on this list has been called."
    assert found.counts["finished"] == 10 and found.counts["do_not_call"] == 1
    assert found.resumes_at is None


def test_a_list_left_only_with_do_not_call_numbers_says_so() -> None:
    now = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)
    found = run([tally(count=2, status=VoterStatus.DNC), tally(on_dnc=True)], now)
    assert found.reason == IdleReason.DO_NOT_CALL
    assert found.counts["do_not_call"] == 3
    assert "do-not-call list" in found.message


def test_no_voters_and_a_paused_campaign() -> None:
    now = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)
    assert run([], now).reason == IdleReason.NO_VOTERS
    paused = run([tally(count=5)], now, active=False)
    assert paused.reason == IdleReason.CAMPAIGN_PAUSED
    assert "paused" in paused.message


def test_someone_callable_now_is_not_idle() -> None:
    now = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)
    found = run([tally(count=1), tally(LA, 9, status=VoterStatus.DONE)], now)
    assert not found.idle and found.message == "" and found.view()["idle"] is False


def test_clock_words() -> None:
    assert [local_clock(t) for t in ("09:00", "21:30", "12:00", "00:00", "12:15")] == [
        "9:00 a.m.",
        "9:30 p.m.",
        "noon",
        "midnight",
        "12:15 p.m.",
    ]


async def test_store_groups_the_voters_left_by_reason(store: SqliteStore) -> None:
    campaign = await store.create_campaign("Fall")
    numbers = phones(6)
    await store.add_voters(
        campaign.id, [Row(p) for p in numbers[:5]] + [Row(numbers[5], timezone=LA)]
    )
    now = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)
    claimed = await store.claim_voters(campaign.id, 2, now, [NY], 3)
    await store.release_voter(claimed[0][0].id, VoterStatus.RETRY, now + timedelta(hours=1))
    await store.release_voter(claimed[1][0].id, VoterStatus.DONE)
    await store.add_dnc(numbers[2], campaign.id, "asked", "olive", now)
    tallies = await store.voter_tallies(campaign.id, now, 3)
    found = explain(campaign, tallies, EASTERN, now, {LA})  # only Los Angeles open
    assert found.counts == {
        "callable_now": 1,
        "outside_hours": 2,
        "waiting_for_retry": 1,
        "being_called": 0,
        "do_not_call": 1,
        "finished": 1,
    }
    waiting = [t for t in tallies if t.waiting_until is not None]
    assert [t.waiting_until for t in waiting] == [now + timedelta(hours=1)]
    assert await store.voter_zones(campaign.id) == {NY: 5, LA: 1}


async def test_only_calls_the_phone_system_accepted_count_as_placed(store: SqliteStore) -> None:
    """A claimed attempt that never reached Asterisk (originate refused, or still about to
    be sent) is not a call placed."""
    campaign = await store.create_campaign("Fall")
    await store.add_voters(campaign.id, [Row(p) for p in phones(3)])
    now = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)
    (_, refused), (_, ringing), (_, answered) = await store.claim_voters(
        campaign.id, 3, now, [NY], 3
    )
    await store.update_attempt(
        refused.id, state=CallState.ENDED, ended_at=now, outcome=CallOutcome.FAILED
    )
    assert await store.calls_placed(campaign.id, now - timedelta(hours=1)) == 0
    await store.update_attempt(ringing.id, state=CallState.DIALING, originated_at=now)
    await store.update_attempt(
        answered.id,
        state=CallState.ENDED,
        originated_at=now,
        ended_at=now + timedelta(minutes=2),
        outcome=CallOutcome.CONTACT,
    )
    assert await store.calls_placed(campaign.id, now - timedelta(hours=1)) == 2
    stats_window = now + timedelta(hours=2)
    assert await store.calls_placed(campaign.id, stats_window) == 0
