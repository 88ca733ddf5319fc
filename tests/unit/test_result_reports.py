"""The results report over the real in-memory store: the counts in SQL (drafts not counted,
filters by volunteer and date), the Results page, and the export through the service (an
empty export's header, prefixed voter columns, choices both ways, streamed in chunks)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from engine.app import Engine
from engine.models import Campaign, ResultStatus
from engine.operators.service import OperatorService
from engine.reports import export
from engine.reports.export_columns import Choices
from engine.store.result_rows import ResultFilter
from engine.store.sqlite.store import SqliteStore
from tests.results_seed import seed_result, volunteer_session
from tests.unit.store_helpers import Row
from tests.unit.test_operator_pages import log_in
from tests.unit.web_support import bearer, operator_token

DAY1 = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
SURVEY: list[dict[str, Any]] = [
    {
        "id": "support",
        "text": "Will you support Measure A?",
        "kind": "single",
        "options": [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}],
    },
    {
        "id": "issues",
        "text": "Which issues matter most?",
        "kind": "multiple",
        "options": [{"value": "schools", "label": "Schools"}, {"value": "roads", "label": "Roads"}],
    },
    {"id": "comment", "text": "Anything else?", "kind": "text"},
]


@pytest.fixture
async def filled(store: SqliteStore) -> tuple[Campaign, int, int]:
    """A campaign with three results from Ada (day 1) and one final plus one draft from Bo
    (day 2); (campaign, Ada's volunteer id, Bo's)."""
    campaign = await store.create_campaign("Fall", survey=SURVEY)
    ada = await volunteer_session(store, campaign.id, "Ada", DAY1)
    bo = await volunteer_session(store, campaign.id, "Bo", DAY2)
    rows: list[tuple[int, datetime, dict[str, Any], ResultStatus]] = [
        (ada, DAY1, {"support": "yes", "issues": ["schools", "roads"]}, ResultStatus.FINAL),
        (ada, DAY1, {"support": "yes", "comment": "Call me"}, ResultStatus.TIMED_OUT),
        (ada, DAY1, {"support": "no", "issues": []}, ResultStatus.FINAL),
        (bo, DAY2, {"support": "no", "issues": ["roads"], "comment": "Later"}, ResultStatus.FINAL),
        (bo, DAY2, {"support": "yes"}, ResultStatus.DRAFT),
    ]
    for n, (session_id, at, answers, status) in enumerate(rows):
        voter = Row(f"+1202555{n:04d}", first_name=f"V{n}", extra={"notes": f"list {n}"})
        await seed_result(store, campaign.id, voter, session_id, at, "talked", answers, "", status)
    [(ada_id, _), (bo_id, _)] = await store.result_volunteers(campaign.id)
    return campaign, ada_id, bo_id


async def test_counts_leave_out_drafts_and_count_each_choice_once_per_result(
    store: SqliteStore, filled: tuple[Campaign, int, int]
) -> None:
    campaign, _, _ = filled
    counts = await store.result_counts(campaign.id, ResultFilter(), latest=3)
    assert counts.statuses == {"final": 3, "timed out": 1, "draft": 1}
    assert counts.term_codes == {"talked": 4}
    assert counts.respondents == {"support": 4, "issues": 2, "comment": 2}
    assert counts.choices[("support", "yes")] == 2
    assert counts.choices[("issues", "roads")] == 2
    assert [a.text for a in counts.latest_text["comment"]] == ["Later", "Call me"]


async def test_counts_follow_the_volunteer_and_date_filters(
    store: SqliteStore, filled: tuple[Campaign, int, int]
) -> None:
    campaign, ada, bo = filled
    by_bo = await store.result_counts(campaign.id, ResultFilter(volunteer_id=bo), latest=3)
    assert by_bo.statuses == {"final": 1, "draft": 1}
    day1 = ResultFilter(since=DAY1 - timedelta(hours=1), until=DAY1 + timedelta(hours=1))
    on_day1 = await store.result_counts(campaign.id, day1, latest=3)
    assert sum(on_day1.statuses.values()) == 3 and on_day1.choices[("support", "yes")] == 2
    page = await store.result_page(campaign.id, ResultFilter(volunteer_id=ada), 0, 2)
    assert [r.volunteer for r in page] == ["Ada", "Ada"]
    assert page[0].id > page[1].id, "latest first"


async def test_an_empty_export_is_its_header_row(store: SqliteStore) -> None:
    campaign = await store.create_campaign("Empty", survey=SURVEY)
    text = "".join([c async for c in export.results_csv(store, campaign, Choices.JOINED)])
    [header] = list(csv.reader(io.StringIO(text)))
    assert {"support", "issues", "comment", "term_code", "term_code_label", "status"} <= set(header)


async def test_the_export_keeps_prefixed_voter_columns_and_labels(
    store: SqliteStore, filled: tuple[Campaign, int, int]
) -> None:
    campaign, _, _ = filled
    service = OperatorService(store, clock=lambda: DAY2)
    text = "".join([c async for c in service.results_csv("ops", campaign.id)])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 5
    first = rows[0]
    assert (first["voter_notes"], first["notes"]) == ("list 0", "")
    assert (first["support"], first["issues"]) == ("Yes", "Schools; Roads")
    assert (first["term_code"], first["term_code_label"]) == ("talked", "Talked to Correct Person")
    assert first["time_zone"] == "America/New_York", "the zone of the voters"
    assert first["created_at"] == "2026-12-02T10:00:00-05:00"
    assert [r["status"] for r in rows] == ["final", "timed out", "final", "final", "draft"]
    columns = "".join([c async for c in service.results_csv("ops", campaign.id, Choices.COLUMNS)])
    first = next(csv.DictReader(io.StringIO(columns)))
    assert (first["issues:schools"], first["issues:roads"]) == ("1", "1")


async def test_a_large_export_is_handed_out_in_chunks(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch, filled: tuple[Campaign, int, int]
) -> None:
    campaign, _, _ = filled
    monkeypatch.setattr(export, "CHUNK", 100)
    chunks = [c async for c in export.results_csv(store, campaign, Choices.JOINED)]
    assert len(chunks) > 2
    assert len(list(csv.reader(io.StringIO("".join(chunks))))) == 6


@pytest.fixture
async def headers(engine: Engine, client: TestClient[Any, Any]) -> dict[str, str]:
    return bearer(await operator_token(engine, client))


@pytest.mark.usefixtures("operator")
async def test_the_results_page_shows_the_tallies_and_rejects_a_bad_date(
    engine: Engine, client: TestClient[Any, Any]
) -> None:
    campaign = await engine.operators.create_campaign("test", "Fall", survey=SURVEY)
    session = await volunteer_session(engine.store, campaign.id, "Ada", DAY1)
    voter = Row("+12025550100")
    answers = {"support": "yes"}
    await seed_result(engine.store, campaign.id, voter, session, DAY1, "talked", answers)
    await log_in(client)
    page = await client.get(f"/operator/campaigns/{campaign.id}/results")
    text = await page.text()
    assert page.status == 200
    assert "Will you support Measure A?" in text and "100.0 %" in text
    bad = await client.get(f"/operator/campaigns/{campaign.id}/results?from=12/02/2026")
    assert bad.status == 400
    assert "the start date must be a date like 2026-12-03" in await bad.text()
    far = await client.get(f"/operator/campaigns/{campaign.id}/results?to=9999-12-31")
    assert far.status == 400 and "between the years 1970 and 2999" in await far.text()
    huge = "9" * 40
    odd = await client.get(
        f"/operator/campaigns/{campaign.id}/results?offset={huge}&volunteer={huge}"
    )
    assert odd.status == 400 and "choose the volunteer from the list" in await odd.text()
    csv_bad = await client.get(f"/operator/campaigns/{campaign.id}/results.csv?choices=x")
    assert csv_bad.status == 400


async def test_the_api_export_takes_the_choices_and_filter_parameters(
    engine: Engine, client: TestClient[Any, Any], headers: dict[str, str], campaign: Campaign
) -> None:
    ada = await volunteer_session(engine.store, campaign.id, "Ada", DAY1)
    bo = await volunteer_session(engine.store, campaign.id, "Bo", DAY2)
    for n, (session, at) in enumerate([(ada, DAY1), (bo, DAY2)]):
        await seed_result(
            engine.store, campaign.id, Row(f"+1202555{n:04d}"), session, at, "talked", {}
        )
    [_, (bo_id, _)] = await engine.store.result_volunteers(campaign.id)
    url = f"/api/operator/campaigns/{campaign.id}/results.csv"
    assert (await client.get(url + "?choices=columns", headers=headers)).status == 200
    by_bo = await client.get(url + f"?volunteer={bo_id}", headers=headers)
    assert [r["volunteer"] for r in csv.DictReader(io.StringIO(await by_bo.text()))] == ["Bo"]
    day2 = await client.get(url + "?from=2026-12-03&to=2026-12-03", headers=headers)
    assert [r["volunteer"] for r in csv.DictReader(io.StringIO(await day2.text()))] == ["Bo"]
    bad = await client.get(url + "?choices=both", headers=headers)
    assert bad.status == 400
    assert "choices must be 'joined'" in (await bad.json())["error"]["message"]
