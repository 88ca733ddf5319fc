"""Issue 14 item 1: nothing a volunteer typed is lost at the wrap-up deadline.

The result is saved as a draft while it is typed (no effect yet); when the deadline passes
without Next the draft is kept as "timed out" and takes effect, and the volunteer is paused
(logged out only after the campaign's logout_after_missed_wrapups misses in a row).
VolunteerService over the real in-memory store, with test_volunteers.py's recording fakes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest

from engine.errors import Conflict, InvalidInput, NotAllowed
from engine.models import (
    AfterResult,
    Attempt,
    AudioMode,
    Campaign,
    ResultStatus,
    Session,
    SessionState,
)
from engine.notifier import Notifier
from engine.sessions.drafts import deadline_outcome, missed_message
from engine.sessions.service import VolunteerService
from engine.store.sqlite.store import SqliteStore
from tests.helpers import wait_until
from tests.unit import test_volunteers as volunteer_tests
from tests.unit.store_helpers import NY, Row
from tests.unit.test_volunteers import (
    T0,
    VOTER_PHONE,
    Clock,
    RecordingCalls,
    events,
    in_wrap_up,
    sign_in,
)

# the service over the in-memory store and its recording fakes, as test_volunteers.py builds it
calls = volunteer_tests.calls
campaign = volunteer_tests.campaign
cheap_hashing = volunteer_tests.cheap_hashing
notifier = volunteer_tests.notifier
service = volunteer_tests.service

# --- the rule, pure ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("missed_before", "logout_after", "expected"),
    [
        (0, 0, (1, False)),
        (9, 0, (10, False)),
        (0, 1, (1, True)),
        (0, 2, (1, False)),
        (1, 2, (2, True)),
    ],
)
def test_a_missed_deadline_counts_and_logs_out_only_at_the_campaign_setting(
    missed_before: int, logout_after: int, expected: tuple[int, bool]
) -> None:
    assert deadline_outcome(missed_before, logout_after) == expected


def test_the_missed_message_names_the_voter_and_says_what_was_kept() -> None:
    assert missed_message("Jane", True) == (
        "Your answers for Jane were saved. You're on a break — press Ready for the next call."
    )
    assert "nothing was saved" in missed_message(" ", False)
    assert "this voter" in missed_message(" ", False)


# --- helpers ---------------------------------------------------------------------------------


async def pass_deadline(service: VolunteerService, session_id: int) -> Session:
    """Move the service's clock past the session's wrap-up deadline and let it fire."""
    store = service.store
    session = await store.get_session(session_id)
    assert session.wrapup_deadline is not None
    cast(Clock, service.clock).now = session.wrapup_deadline + timedelta(seconds=1)
    service.ledger.schedule_deadline(session)

    async def moved() -> Session | None:
        now = await store.get_session(session_id)
        return now if now.state != SessionState.WRAP_UP else None

    return cast(Session, await wait_until(moved, timeout=5, what="the wrap-up deadline"))


async def another_call(
    service: VolunteerService, session: Session, campaign: Campaign, phone: str, name: str
) -> tuple[Session, Attempt]:
    """The READY session takes a call from a new voter and the call ends (wrap-up)."""
    store = service.store
    await store.add_voters(campaign.id, [Row(phone, first_name=name, timezone=NY)])
    [(voter, attempt)] = await store.claim_voters(
        campaign.id, 1, T0, {"", NY}, campaign.max_attempts
    )
    attempt = await store.update_attempt(attempt.id, session_id=session.id, bridged_at=T0)
    session = await service.ledger.call_connected(session, attempt, voter, campaign)
    return await service.ledger.call_ended(session), attempt


# --- drafts ----------------------------------------------------------------------------------


async def test_a_draft_is_saved_in_place_and_has_no_effect(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    session, attempt = await in_wrap_up(service, campaign)
    first = await service.save_draft(session.id, attempt.id, "", {}, "call back")
    second = await service.save_draft(session.id, attempt.id, "remove", {"q1": "no"}, " stop ")
    assert second.id == first.id
    assert (second.status, second.term_code, second.answers, second.notes) == (
        ResultStatus.DRAFT,
        "remove",
        {"q1": "no"},
        "stop",
    )
    assert await store.result_history(second.id) == []  # a draft is what is being typed
    assert not await store.is_dnc(VOTER_PHONE, campaign.id)  # "Remove Number" not yet
    assert (await store.get_session(session.id)).state == SessionState.WRAP_UP


async def test_next_turns_the_draft_into_the_final_result(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    session, attempt = await in_wrap_up(service, campaign)
    draft = await service.save_draft(session.id, attempt.id, "talked", {}, "")
    cast(Clock, service.clock).now = T0 + timedelta(seconds=20)
    final = await service.submit_result(session.id, "talked", {"q1": "y"}, "ok", AfterResult.READY)
    assert (final.id, final.status, final.notes) == (draft.id, ResultStatus.FINAL, "ok")
    assert final.created_at == T0 + timedelta(seconds=20)  # first saved for good at Next
    assert await store.result_history(final.id) == []
    with pytest.raises(NotAllowed):  # the page's late draft, after Next
        await service.save_draft(session.id, attempt.id, "remove", {}, "")
    assert (await store.result_for_attempt(attempt.id)) == final


async def test_a_draft_is_only_for_the_current_answered_call(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    session, attempt = await in_wrap_up(service, campaign)
    with pytest.raises(NotAllowed, match="an earlier call"):
        await service.save_draft(session.id, attempt.id + 1, "talked", {}, "")
    with pytest.raises(InvalidInput, match="unknown term code 'nope'"):
        await service.save_draft(session.id, attempt.id, "nope", {}, "")
    await service.submit_result(session.id, "talked", {}, "", AfterResult.PAUSE)
    with pytest.raises(NotAllowed, match="wrap-up is over"):
        await service.save_draft(session.id, attempt.id, "talked", {}, "")


async def test_the_store_refuses_a_draft_over_a_saved_result(store: SqliteStore) -> None:
    campaign = await store.create_campaign("Drafts")
    await store.add_voters(campaign.id, [Row(VOTER_PHONE)])
    [(_, attempt)] = await store.claim_voters(campaign.id, 1, T0, {NY}, 3)
    volunteer = await store.add_volunteer("Ann", "ann@example.org", "+12025550100")
    session = await store.create_session(volunteer.id, campaign.id, AudioMode.PHONE, "1", "t", T0)
    await store.save_result(attempt.id, session.id, "talked", {}, "", T0)
    with pytest.raises(Conflict, match="already saved"):
        await store.save_draft(attempt.id, session.id, "remove", {}, "", T0)
    assert (await store.close_draft(attempt.id, T0)) == await store.result_for_attempt(attempt.id)


async def test_pacing_learns_a_wrap_up_only_once_its_draft_is_saved(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    session, attempt = await in_wrap_up(service, campaign)
    await store.update_attempt(attempt.id, ended_at=T0)
    await service.save_draft(session.id, attempt.id, "talked", {}, "")
    assert await store.wrap_ups(campaign.id, 0, 10) == []
    cast(Clock, service.clock).now = T0 + timedelta(seconds=12)
    result = await service.submit_result(session.id, "talked", {}, "", AfterResult.PAUSE)
    assert await store.wrap_ups(campaign.id, 0, 10) == [(result.id, 12.0)]


# --- the deadline ----------------------------------------------------------------------------


async def test_at_the_deadline_the_draft_is_kept_and_the_volunteer_paused(
    service: VolunteerService,
    campaign: Campaign,
    store: SqliteStore,
    calls: RecordingCalls,
    notifier: Notifier,
) -> None:
    session, attempt = await in_wrap_up(service, campaign)
    await service.save_draft(session.id, attempt.id, "talked", {"q1": "yes"}, "yard sign")
    with notifier.session_events(session.id) as queue:
        after = await pass_deadline(service, session.id)
        await wait_until(lambda: not queue.empty(), timeout=5, what="the paused event")
        [event] = [e for e in events(queue) if e["type"] == "session"]
    assert (after.state, after.missed_wrapups, after.channel_id) == (
        SessionState.PAUSED,
        1,
        "phone-1",  # still on the line, in their bridge
    )
    assert calls.released == []
    kept = await store.result_for_attempt(attempt.id)
    assert kept is not None
    assert (kept.status, kept.term_code, kept.answers, kept.notes) == (
        ResultStatus.TIMED_OUT,
        "talked",
        {"q1": "yes"},
        "yard sign",
    )
    message = "Your answers for Ana were saved."
    assert event["state"] == "paused" and event["wrapup_missed"].startswith(message)
    view = await service.view(session.id)
    assert view["wrapup_missed"].startswith(message) and view["message"] == view["wrapup_missed"]
    assert view["result"]["status"] == "timed out"


async def test_a_remove_number_draft_takes_effect_at_the_deadline(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    session, attempt = await in_wrap_up(service, campaign)
    await service.save_draft(session.id, attempt.id, "remove", {}, "")
    await pass_deadline(service, session.id)
    assert await store.is_dnc(VOTER_PHONE, campaign.id)  # the voter asked: respected


async def test_with_nothing_entered_the_call_gets_no_result(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    session, attempt = await in_wrap_up(service, campaign)
    await service.save_draft(session.id, attempt.id, "", {}, "  ")  # focus and blur, no text
    after = await pass_deadline(service, session.id)
    assert after.state == SessionState.PAUSED
    assert await store.result_for_attempt(attempt.id) is None
    assert "nothing was saved" in (await service.view(session.id))["message"]


async def test_ready_after_a_missed_deadline_takes_calls_again(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    session, _ = await in_wrap_up(service, campaign)
    await pass_deadline(service, session.id)
    resumed = await service.start_calling(session.id)
    assert (resumed.state, resumed.wrapup_deadline) == (SessionState.READY, None)
    assert (await service.view(session.id))["wrapup_missed"] is None
    paused = await service.pause(session.id)  # a break of their own says nothing of a miss
    assert (await service.view(paused.id))["wrapup_missed"] is None


async def test_the_timed_out_result_can_be_corrected(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    session, attempt = await in_wrap_up(service, campaign)
    await service.save_draft(session.id, attempt.id, "no_contact", {}, "")
    await pass_deadline(service, session.id)
    fixed = await service.edit_result(session.id, "talked", {}, "it was them")
    assert (fixed.status, fixed.term_code) == (ResultStatus.FINAL, "talked")
    [old] = await store.result_history(fixed.id)
    assert (old["status"], old["term_code"]) == ("timed out", "no_contact")
    assert (await store.get_session(session.id)).missed_wrapups == 0


async def test_the_campaign_setting_logs_out_after_that_many_misses_in_a_row(
    service: VolunteerService, campaign: Campaign, store: SqliteStore, calls: RecordingCalls
) -> None:
    campaign = await store.update_campaign(campaign.id, logout_after_missed_wrapups=2)
    session, _ = await in_wrap_up(service, campaign)
    assert (await pass_deadline(service, session.id)).state == SessionState.PAUSED
    session = await service.start_calling(session.id)
    session, attempt = await another_call(service, session, campaign, "+12025550124", "Bo")
    await service.save_draft(session.id, attempt.id, "talked", {}, "second")
    after = await pass_deadline(service, session.id)
    assert (after.state, after.end_reason, after.missed_wrapups) == (
        SessionState.LOGGED_OUT,
        "timeout",
        2,
    )
    assert calls.released == [(session.id, "timeout")]
    kept = await store.result_for_attempt(attempt.id)
    assert kept is not None and kept.status == ResultStatus.TIMED_OUT


async def test_a_saved_result_resets_the_count_of_misses(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    campaign = await store.update_campaign(campaign.id, logout_after_missed_wrapups=2)
    session, _ = await in_wrap_up(service, campaign)
    await pass_deadline(service, session.id)
    session = await service.start_calling(session.id)
    session, _ = await another_call(service, session, campaign, "+12025550124", "Bo")
    await service.submit_result(session.id, "talked", {}, "", AfterResult.READY)
    after = await store.get_session(session.id)
    assert (after.state, after.missed_wrapups) == (SessionState.READY, 0)
    session, _ = await another_call(service, after, campaign, "+12025550125", "Cy")
    assert (await pass_deadline(service, session.id)).state == SessionState.PAUSED


async def test_logging_out_in_wrap_up_keeps_the_draft(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    session, attempt = await in_wrap_up(service, campaign)
    await service.save_draft(session.id, attempt.id, "talked", {}, "left early")
    await service.log_out(session.id)
    kept = await store.result_for_attempt(attempt.id)
    assert kept is not None and (kept.status, kept.notes) == (ResultStatus.TIMED_OUT, "left early")


async def test_a_restart_keeps_drafts_whose_wrap_up_is_over_and_rearms_the_rest(
    service: VolunteerService, campaign: Campaign, store: SqliteStore
) -> None:
    session, attempt = await in_wrap_up(service, campaign)
    await service.save_draft(session.id, attempt.id, "talked", {}, "typed")
    # as if the engine stopped with the session in wrap-up and came back after its deadline
    service.ledger.cancel_deadline(session.id)
    cast(Clock, service.clock).now = T0 + timedelta(seconds=campaign.wrapup_seconds + 5)
    await service.ledger.recover()

    async def paused() -> bool:
        return (await store.get_session(session.id)).state == SessionState.PAUSED

    await wait_until(paused, timeout=5, what="the re-armed deadline")
    kept = await store.result_for_attempt(attempt.id)
    assert kept is not None and kept.status == ResultStatus.TIMED_OUT
    # a draft left behind by a session that is gone is kept too
    signed = await sign_in(service, campaign, email="bo@example.org")
    other = await service.ledger.phone_connected(signed.session, "phone-2", "bridge-2")
    other = await service.start_calling(other.id)
    other, second = await another_call(service, other, campaign, "+12025550124", "Bo")
    await service.save_draft(other.id, second.id, "", {}, "half typed")
    service.ledger.cancel_deadline(other.id)
    await store.update_session(other.id, state=SessionState.LOGGED_OUT)
    await service.ledger.recover()
    orphan = await store.result_for_attempt(second.id)
    assert orphan is not None and (orphan.status, orphan.notes) == (
        ResultStatus.TIMED_OUT,
        "half typed",
    )
