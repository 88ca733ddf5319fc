"""The Results page reports (issue 14, item 4), in headless Chromium on the real PBX pair: a
campaign with results from two volunteers over two days (written through the store) and one
from a real call. The page shows each call's answers and status, the tallies and their chart
numbers, which change with the volunteer and date filters, and the CSV download has the
question columns, term code labels and codes, and the voter's own "notes" column kept as
voter_notes."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Locator, Page, expect

from engine.app import Engine
from engine.ari.client import AriClient
from engine.models import AfterResult, Campaign, ResultStatus, SessionState
from testbed.behaviours import voter_number
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import SimVolunteer
from tests.e2e.conftest import PageFactory, Shot
from tests.e2e.support import assert_fits, assert_headers_whole
from tests.e2e.test_operator_path import PASSWORD, log_in
from tests.results_seed import SURVEY, seed_result, volunteer_session
from tests.unit.store_helpers import Row

NY = ZoneInfo("America/New_York")
TERM_CODES = [
    {"code": "talked", "label": "Talked to Correct Person", "kind": "contact"},
    {"code": "refused", "label": "Refused to talk", "kind": "contact"},
    {"code": "no_contact", "label": "No Contact", "kind": "no contact"},
    {"code": "remove", "label": "Remove Number", "kind": "remove"},
]


async def seeded_campaign(engine: Engine) -> tuple[Campaign, datetime, datetime]:
    """Five stored results: Ada twice and Bo once on day 1, Bo's timed-out and draft results
    on day 2 (10:00 in New York, where the voters are); (campaign, day 1, day 2)."""
    campaign = await engine.operators.create_campaign(
        "test",
        f"Measure A {uuid.uuid4().hex[:4]}",
        survey=SURVEY,
        term_codes=TERM_CODES,
        calling_hours_start="00:00",
        calling_hours_end="23:59",
        ring_seconds=6,
        max_attempts=1,
        dial_mode="power",
    )
    today = datetime.now(NY).date()
    day1 = datetime.combine(today - timedelta(days=2), time(10), NY).astimezone(UTC)
    day2 = day1 + timedelta(days=1)
    store = engine.store
    ada = await volunteer_session(store, campaign.id, "Ada Park", day1)
    bo = await volunteer_session(store, campaign.id, "Bo Reyes", day1)
    seeds: list[tuple[int, datetime, str, dict[str, Any], ResultStatus]] = [
        (
            ada,
            day1,
            "talked",
            {"support": "yes", "issues": ["schools", "roads"]},
            ResultStatus.FINAL,
        ),
        (ada, day1, "refused", {"support": "no", "issues": ["schools"]}, ResultStatus.FINAL),
        (
            bo,
            day1,
            "talked",
            {"support": "yes", "issues": ["roads"], "comment": "Call me after 6"},
            ResultStatus.FINAL,
        ),
        (bo, day2, "talked", {"support": "no"}, ResultStatus.TIMED_OUT),
        (bo, day2, "talked", {"support": "yes"}, ResultStatus.DRAFT),
    ]
    for n, (session, at, code, answers, status) in enumerate(seeds):
        voter = Row(f"+1202556{n:04d}", first_name=f"Seed{n}", extra={"notes": f"list note {n}"})
        await seed_result(store, campaign.id, voter, session, at, code, answers, "", status)
    return campaign, day1, day2


async def real_call_result(
    engine: Engine, campaign: Campaign, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    """A volunteer on the phone takes a real call to a voter who answers and saves its result."""
    listing = f"phone,first_name,notes\n{voter_number('10', 41)},Real,from the list\n"
    summary = await engine.operators.import_list("test", campaign.id, io.BytesIO(listing.encode()))
    assert summary.invalid == 0, summary.errors
    volunteer = await SimVolunteer.sign_in(engine, campaign, 1)
    await volunteer.call_in(pbx_pair, carrier)
    await engine.volunteers.start_calling(volunteer.session.id)
    session = await volunteer.wait_state(SessionState.TALKING, timeout=40)
    await engine.volunteers.end_call(session.id)
    await volunteer.wait_state(SessionState.WRAP_UP, timeout=10)
    answers = {"support": "yes", "issues": ["parks"], "comment": "Real call"}
    await engine.volunteers.submit_result(session.id, "talked", answers, "", AfterResult.PAUSE)
    await engine.volunteers.log_out(session.id)
    assert volunteer.phone is not None
    await volunteer.phone.wait_hung_up(timeout=15)


def tally_row(page: Page, block: str, label: str) -> Locator:
    return page.locator(f"{block} tbody tr").filter(
        has=page.get_by_role("rowheader", name=label, exact=True)
    )


async def expect_tally(page: Page, block: str, label: str, count: str, share: str) -> None:
    cells = tally_row(page, block, label).locator("td")
    await expect(cells.nth(0)).to_have_text(count)
    await expect(cells.nth(1)).to_have_text(share)


async def test_the_results_page_reports_answers_tallies_filters_and_exports(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
    shot: Shot,
) -> None:
    campaign, day1, _ = await seeded_campaign(engine)
    await real_call_result(engine, campaign, pbx_pair, carrier)
    username = f"rita-{uuid.uuid4().hex[:4]}"
    await engine.operators.add_operator(username, PASSWORD)
    page = await new_page(1280, 900)
    await log_in(page, app_url, username)
    await page.goto(f"{app_url}/operator/campaigns/{campaign.id}/results")

    # Every call with its answers, volunteer, time in a named zone and status.
    rows = page.locator("#results-table tbody tr")
    await expect(rows).to_have_count(6)
    await expect(page.locator("#zone-note")).to_contain_text("America/New_York")
    real = rows.filter(has_text="Real")
    await expect(real).to_contain_text("Vol 1")
    await expect(real.locator("dl.answers")).to_contain_text("Which issues matter most?Parks")
    await expect(real.locator("td").first).to_contain_text(" E")  # EST or EDT
    await expect(rows.filter(has_text="Seed4")).to_contain_text("being entered")
    await expect(rows.filter(has_text="Seed3")).to_contain_text("timed out")
    await expect(rows.filter(has_text="Seed1")).to_contain_text("Refused to talk")

    # Tallies: the draft is not counted; shares of respondents, numbers as text.
    await expect(page.locator("#count-counted")).to_have_text("5")
    await expect(page.locator("#count-being-entered")).to_have_text("1")
    support, issues = "#tally-1", "#tally-2"
    await expect_tally(page, support, "Yes", "3", "60.0 %")
    await expect_tally(page, support, "No", "2", "40.0 %")
    await expect_tally(page, issues, "Schools", "2", "50.0 %")
    await expect_tally(page, issues, "Parks", "1", "25.0 %")
    await expect_tally(page, "#tally-term-codes", "Refused to talk", "1", "20.0 %")
    await expect(page.locator("#tally-3")).to_contain_text("2 answers")
    await expect(page.locator("#tally-3 .latest li").first).to_contain_text("Real call")
    await expect(tally_row(page, support, "Yes").locator("svg.bar rect.fill")).to_have_attribute(
        "width", "60.0"
    )
    await shot(page, "all")
    await page.set_viewport_size({"width": 375, "height": 900})
    await assert_headers_whole(page)
    await shot(page, "all")
    await page.set_viewport_size({"width": 1280, "height": 900})
    await assert_fits(page)

    # Filtering by volunteer, then by a date in the campaign's zone, changes the tallies.
    await page.get_by_label("Volunteer").select_option(label="Ada Park")
    await page.get_by_role("button", name="Apply").click()
    await expect(rows).to_have_count(2)
    await expect_tally(page, support, "Yes", "1", "50.0 %")
    await expect_tally(page, "#tally-term-codes", "Refused to talk", "1", "50.0 %")
    await page.get_by_role("link", name="Clear filters").click()
    day = day1.astimezone(NY).date().isoformat()
    await page.get_by_label("From (date)").fill(day)
    await page.get_by_label("To (date)").fill(day)
    await page.get_by_role("button", name="Apply").click()
    await expect(rows).to_have_count(3)
    await expect_tally(page, support, "Yes", "2", "66.7 %")
    await expect_tally(page, support, "No", "1", "33.3 %")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Export the 3 filtered results (CSV)").click()
    filtered = (await (await download_info.value).path()).read_text()
    assert {r["first_name"] for r in csv.DictReader(io.StringIO(filtered))} == {
        "Seed0",
        "Seed1",
        "Seed2",
    }
    await shot(page, "filtered")
    await page.set_viewport_size({"width": 375, "height": 900})
    await assert_headers_whole(page)
    await shot(page, "filtered")
    await page.set_viewport_size({"width": 1280, "height": 900})

    # The export: question columns, term code label and code, the voter's "notes" kept.
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Export all results (CSV)").click()
    exported = (await (await download_info.value).path()).read_text()
    table = list(csv.DictReader(io.StringIO(exported)))
    assert len(table) == 6
    [row] = [r for r in table if r["first_name"] == "Real"]
    assert (row["support"], row["issues"], row["comment"]) == ("Yes", "Parks", "Real call")
    assert (row["term_code"], row["term_code_label"]) == ("talked", "Talked to Correct Person")
    assert (row["voter_notes"], row["notes"], row["volunteer"]) == ("from the list", "", "Vol 1")
    assert row["status"] == "final" and row["time_zone"] == "America/New_York"
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="0/1 column per choice").click()
    columns = (await (await download_info.value).path()).read_text()
    [row] = [r for r in csv.DictReader(io.StringIO(columns)) if r["first_name"] == "Seed0"]
    assert (row["issues:schools"], row["issues:roads"], row["issues:parks"]) == ("1", "1", "0")


async def test_a_campaign_without_results_says_so_and_exports_its_header(
    app_url: str, engine: Engine, new_page: PageFactory, shot: Shot
) -> None:
    campaign = await engine.operators.create_campaign(
        "test", f"Empty {uuid.uuid4().hex[:4]}", survey=SURVEY
    )
    username = f"eve-{uuid.uuid4().hex[:4]}"
    await engine.operators.add_operator(username, PASSWORD)
    page = await new_page(375, 900)
    await log_in(page, app_url, username)
    await page.goto(f"{app_url}/operator/campaigns/{campaign.id}/results")
    await expect(page.locator("#no-results")).to_contain_text("No results yet")
    await expect(page.locator("#tallies")).to_have_count(0)
    await shot(page, "empty")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Export all results (CSV)").click()
    text = (await (await download_info.value).path()).read_text()
    [header] = list(csv.reader(io.StringIO(text)))
    assert {"support", "issues", "comment", "term_code_label", "status"} <= set(header)
    await page.set_viewport_size({"width": 1280, "height": 900})
    await shot(page, "empty")
