"""The stores' results report, drafts and wrap-up times: what the report, the wrap-up deadline
and pacing read, on both stores (the report's own behaviour is tests/unit/test_result_reports.py,
on SQLite)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from engine.errors import Conflict
from engine.models import CallOutcome, CallState, ResultStatus, VoterStatus
from engine.store.base import Store
from engine.store.result_rows import ResultFilter
from tests.unit.store_helpers import NY, T0, Row, session_for

pytestmark = pytest.mark.every_store


async def called(
    store: Store,
    campaign_id: int,
    session_id: int,
    phone: str,
    ended: datetime | None = T0,
    outcome: CallOutcome = CallOutcome.CONTACT,
    **voter: Any,
) -> int:
    """Import a voter, call them and hang up at ``ended`` (None: still on the line); the
    attempt's id."""
    await store.add_voters(campaign_id, [Row(phone, **voter)])
    [(claimed, attempt)] = await store.claim_voters(campaign_id, 1, T0, [NY], 9)
    await store.update_attempt(
        attempt.id,
        state=CallState.ENDED if ended else CallState.CONNECTED,
        session_id=session_id,
        originated_at=T0 - timedelta(minutes=2),
        answered_at=T0 - timedelta(minutes=1),
        ended_at=ended,
        outcome=outcome if ended else None,
    )
    if ended:
        await store.release_voter(claimed.id, VoterStatus.DONE)
    return attempt.id


@pytest.fixture
async def campaign_id(store: Store) -> int:
    return (await store.create_campaign("Fall")).id


@pytest.fixture
async def session_id(store: Store, campaign_id: int) -> int:
    return await session_for(store, campaign_id)


# --- drafts ----------------------------------------------------------------------------------


async def test_a_draft_is_updated_in_place_then_saved_for_good(
    store: Store, campaign_id: int, session_id: int
) -> None:
    attempt_id = await called(store, campaign_id, session_id, "+12025550001")
    first = await store.save_draft(attempt_id, session_id, "", {"q": "y"}, "", T0)
    again = await store.save_draft(attempt_id, session_id, "talked", {"q": "n"}, "hm", T0)
    assert (again.id, again.status, again.answers, again.notes) == (
        first.id,
        ResultStatus.DRAFT,
        {"q": "n"},
        "hm",
    )
    assert await store.open_drafts() == [again]
    later = T0 + timedelta(seconds=30)
    saved = await store.save_result(attempt_id, session_id, "talked", {"q": "y"}, "", later)
    assert (saved.id, saved.status, saved.created_at) == (first.id, ResultStatus.FINAL, later)
    assert await store.result_history(saved.id) == []
    assert await store.open_drafts() == []
    with pytest.raises(Conflict):
        await store.save_draft(attempt_id, session_id, "", {}, "", later)


async def test_closing_a_draft_times_it_out_and_an_empty_one_goes(
    store: Store, campaign_id: int, session_id: int
) -> None:
    typed = await called(store, campaign_id, session_id, "+12025550001")
    empty = await called(store, campaign_id, session_id, "+12025550002")
    await store.save_draft(typed, session_id, "", {}, "call back", T0)
    await store.save_draft(empty, session_id, "", {}, "  ", T0)
    later = T0 + timedelta(minutes=1)
    closed = await store.close_draft(typed, later)
    assert closed is not None
    assert (closed.status, closed.created_at, closed.updated_at) == (
        ResultStatus.TIMED_OUT,
        later,
        later,
    )
    assert await store.close_draft(empty, later) is None
    assert await store.result_for_attempt(empty) is None
    assert await store.close_draft(typed, later) == closed  # already closed: as it is


async def test_wrap_ups_stop_at_the_first_draft(
    store: Store, campaign_id: int, session_id: int
) -> None:
    first = await called(store, campaign_id, session_id, "+12025550001")
    second = await called(store, campaign_id, session_id, "+12025550002")
    third = await called(store, campaign_id, session_id, "+12025550003")
    one = await store.save_result(first, session_id, "talked", {}, "", T0 + timedelta(seconds=12))
    await store.save_draft(second, session_id, "", {}, "", T0)
    await store.save_result(third, session_id, "talked", {}, "", T0 + timedelta(seconds=5))
    assert await store.wrap_ups(campaign_id, 0, 10) == [(one.id, 12.0)]


# --- the results report ------------------------------------------------------------------------


@pytest.fixture
async def report(store: Store, campaign_id: int) -> tuple[int, int]:
    """Ada's three results on day 1 (one timed out), Bo's one and a draft an hour later;
    (Ada's volunteer id, Bo's)."""
    ada = await session_for(store, campaign_id, "1111", "ada@example.org")
    bo = await session_for(store, campaign_id, "2222", "bo@example.org")
    bo_later = T0 + timedelta(hours=1)
    rows: list[tuple[int, datetime, dict[str, Any], str]] = [
        (ada, T0, {"support": "yes", "issues": ["schools", "roads"], "n": 3}, "final"),
        (ada, T0, {"support": "yes", "comment": "Call me"}, "timed out"),
        (ada, T0, {"support": "no", "issues": [], "comment": "  "}, "final"),
        (bo, bo_later, {"issues": ["roads"], "comment": "Later", "support": "no"}, "final"),
        (bo, bo_later, {"support": "yes"}, "draft"),
    ]
    for n, (session_id, at, answers, status) in enumerate(rows):
        extra = {"ward": str(n)} if n % 2 else {"precinct": "9", "ward": ""}
        attempt_id = await called(
            store, campaign_id, session_id, f"+1202555{n:04d}", at, first_name=f"V{n}", extra=extra
        )
        if status == "final":
            await store.save_result(attempt_id, session_id, "talked", answers, "", at)
        else:
            await store.save_draft(attempt_id, session_id, "talked", answers, "", at)
            if status == "timed out":
                await store.close_draft(attempt_id, at)
    ada_id = (await store.get_session(ada)).volunteer_id
    return ada_id, (await store.get_session(bo)).volunteer_id


async def test_counts_leave_out_drafts_and_count_each_choice_once_per_result(
    store: Store, campaign_id: int, report: tuple[int, int]
) -> None:
    counts = await store.result_counts(campaign_id, ResultFilter(), latest=5)
    assert counts.statuses == {"final": 3, "timed out": 1, "draft": 1}
    assert counts.term_codes == {"talked": 4}
    assert counts.respondents == {"support": 4, "issues": 2, "comment": 2, "n": 1}
    assert counts.choices == {
        ("support", "yes"): 2,
        ("support", "no"): 2,
        ("issues", "schools"): 1,
        ("issues", "roads"): 2,
        ("comment", "Call me"): 1,
        ("comment", "  "): 1,
        ("comment", "Later"): 1,
        ("n", "3"): 1,
    }
    assert [(a.text, a.volunteer) for a in counts.latest_text["comment"]] == [
        ("Later", "Ann"),
        ("Call me", "Ann"),
    ]


async def test_counts_follow_the_volunteer_and_date_filters(
    store: Store, campaign_id: int, report: tuple[int, int]
) -> None:
    ada, bo = report
    by_ada = await store.result_counts(campaign_id, ResultFilter(volunteer_id=ada), latest=5)
    assert by_ada.statuses == {"final": 2, "timed out": 1}
    later = ResultFilter(since=T0 + timedelta(minutes=30))
    assert (await store.result_counts(campaign_id, later, latest=5)).term_codes == {"talked": 1}
    assert [v for v, _ in await store.result_volunteers(campaign_id)] == [ada, bo]
    earlier = ResultFilter(until=T0 + timedelta(minutes=30), term_code="talked")
    assert (await store.result_counts(campaign_id, earlier, latest=5)).statuses == {
        "final": 2,
        "timed out": 1,
    }
    other_code = ResultFilter(term_code="refused")
    assert (await store.result_counts(campaign_id, other_code, latest=5)).statuses == {}
    no_outcome = ResultFilter(outcome="no answer")
    assert (await store.result_counts(campaign_id, no_outcome, latest=5)).statuses == {}


async def test_the_result_page_is_latest_first_with_its_voter_and_call(
    store: Store, campaign_id: int, report: tuple[int, int]
) -> None:
    page = await store.result_page(campaign_id, ResultFilter(), offset=0, limit=2)
    assert [record.voter["first_name"] for record in page] == ["V4", "V3"]
    record = page[1]
    assert (record.status, record.outcome, record.extra) == (
        ResultStatus.FINAL,
        "contact",
        {"ward": "3"},
    )
    assert record.answers == {"issues": ["roads"], "comment": "Later", "support": "no"}
    assert (record.ended_at, record.created_at) == (T0 + timedelta(hours=1),) * 2
    assert record.answered_at == T0 - timedelta(minutes=1)
    rest = await store.result_page(campaign_id, ResultFilter(), offset=2, limit=10)
    assert [record.voter["first_name"] for record in rest] == ["V2", "V1", "V0"]


async def test_result_records_are_oldest_first_and_filtered(
    store: Store, campaign_id: int, report: tuple[int, int]
) -> None:
    ada, _ = report
    records = [r async for r in store.result_records(campaign_id, ResultFilter(volunteer_id=ada))]
    assert [r.voter["first_name"] for r in records] == ["V0", "V1", "V2"]
    assert len([r async for r in store.result_records(campaign_id)]) == 5


async def test_keys_come_in_first_seen_order(
    store: Store, campaign_id: int, report: tuple[int, int]
) -> None:
    assert await store.result_extra_keys(campaign_id) == ["precinct", "ward"]
    assert await store.result_answer_keys(campaign_id) == ["support", "issues", "n", "comment"]
