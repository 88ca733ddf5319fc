"""The operator's whole path through the pages, in headless Chromium, on the real PBX pair:
log in, create a campaign through the form, upload a list (mapping preview, progress, report,
rejected rows), watch the dashboard move while a simulated volunteer takes calls, read and
export the results, keep the do-not-call list."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import re
import uuid
from collections.abc import AsyncIterator

from playwright.async_api import FilePayload, Page, expect

from engine.app import Engine
from engine.ari.client import AriClient
from engine.models import AfterResult, SessionState
from testbed.behaviours import voter_number
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import SimVolunteer
from tests.e2e.conftest import PageFactory, Shot
from tests.e2e.support import both_widths

PASSWORD = "correct horse battery"


def voter_list() -> bytes:
    rows = ["First Name,Last Name,Cell Phone,ZIP,Precinct"]
    for n, code in enumerate(["10", "10", "20", "10", "30", "10"], start=1):
        rows.append(f"Voter{n},B{code},{voter_number(code, n)},20001,P{n}")
    rows.append("Bad,Row,not a phone,20001,P9")
    return ("\n".join(rows) + "\n").encode()


@contextlib.asynccontextmanager
async def volunteer_taking_calls(
    engine: Engine, volunteer: SimVolunteer, calls: int
) -> AsyncIterator[asyncio.Task[int]]:
    """A volunteer who ends each call after a moment and saves 'talked' until ``calls``."""

    async def work() -> int:
        done = 0
        while done < calls:
            session = await volunteer.wait_state(SessionState.TALKING, timeout=40)
            await asyncio.sleep(0.5)
            await engine.volunteers.end_call(session.id)
            await volunteer.wait_state(SessionState.WRAP_UP, timeout=10)
            done += 1
            then = AfterResult.READY if done < calls else AfterResult.PAUSE
            await engine.volunteers.submit_result(session.id, "talked", {}, f"call {done}", then)
        return done

    task = asyncio.create_task(work())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def log_in(page: Page, app_url: str, username: str) -> None:
    await page.goto(app_url + "/operator")
    await expect(page).to_have_url(re.compile(r"/operator/login\?next="))
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Campaigns", exact=True)).to_be_visible()


async def create_campaign(page: Page, name: str) -> int:
    await page.get_by_role("link", name="New campaign").click()
    await page.get_by_label("Name", exact=True).fill(name)
    script = page.get_by_label("Script")
    await script.fill("")
    await script.press_sequentially("Hi {{ first_name }}, I'm {{ volunteer }}.", delay=5)
    await expect(page.locator("#script-preview")).to_have_text("Hi Pat, I'm Sam.")
    await page.get_by_label("Calling hours start").fill("00:00")
    await page.get_by_label("Calling hours end").fill("23:59")
    await page.get_by_label("Ring time (seconds)").fill("6")
    await page.get_by_label("Attempts per voter").fill("1")
    await page.get_by_label("Minutes before a retry").fill("600")
    dial_mode = page.get_by_label("Dial mode")
    await expect(dial_mode).to_have_value("predictive")  # what a new campaign is offered
    await dial_mode.select_option("power")  # this test counts calls one volunteer takes
    await page.get_by_role("button", name="Create campaign").click()
    await expect(page.locator("#saved")).to_be_visible()
    return int(page.url.split("/campaigns/")[1].split("?")[0])


async def test_an_operator_sets_up_watches_and_exports_a_campaign(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
    shot: Shot,
) -> None:
    username = f"olive-{uuid.uuid4().hex[:4]}"
    await engine.operators.add_operator(username, PASSWORD)
    page = await new_page(1280, 900)

    await page.goto(app_url + "/operator")
    await both_widths(page, shot, "login")
    await log_in(page, app_url, username)
    await both_widths(page, shot, "campaigns")

    name = f"Ward {uuid.uuid4().hex[:4]}"
    campaign_id = await create_campaign(page, name)
    await expect(page.locator("#join-url")).to_have_value(f"{app_url}/join/{campaign_id}")
    gap = await page.locator("#saved").evaluate(
        "(n) => n.nextElementSibling.getBoundingClientRect().top - n.getBoundingClientRect().bottom"
    )
    assert gap >= 8, f"the Saved notice touches the team link's panel ({gap} px apart)"
    await both_widths(page, shot, "campaign-saved")

    # The list: mapping preview, upload with progress, report, rejected rows.
    await page.get_by_role("link", name="Next: upload your voter list").click()
    await expect(page.locator(".empty")).to_contain_text("No voters yet")
    await page.get_by_label("CSV file").set_input_files(
        files=[FilePayload(name="ward.csv", mimeType="text/csv", buffer=voter_list())]
    )
    mapping = page.locator("#mapping-table")
    await expect(mapping).to_contain_text("Cell Phone")
    await expect(page.get_by_label("Use of column “Cell Phone”")).to_have_value("phone")
    await expect(page.get_by_label("Use of column “Precinct”")).to_have_value("extra")
    await both_widths(page, shot, "list-mapping")
    await page.get_by_role("button", name="Import").click()
    report = page.locator("#report-counts")
    await expect(report).to_contain_text("imported6")
    # US numbers seldom tell mobile from landline, and this list has no line-type column.
    await expect(page.locator("#report-lines")).to_contain_text(
        "Line types: 0 mobile, 0 landline, 6 unknown"
    )
    await expect(report).to_contain_text("rejected1")
    await expect(page.locator("#progress-label")).to_have_text("Import finished.")
    await expect(page.locator("#voters-now")).to_contain_text("pending6")
    await both_widths(page, shot, "list-report")
    async with page.expect_download() as download_info:
        await page.locator("#rejected-link").click()
    rejected = (await (await download_info.value).path()).read_text()
    assert "not a phone" in rejected and "line" in rejected.splitlines()[0]

    # The dashboard moves without a reload while a volunteer takes calls.
    await page.get_by_role("link", name="Dashboard").click()
    await expect(page.locator("#live-status")).to_contain_text("Live")
    await expect(page.locator("#calls-placed-last-hour")).to_have_text("0")
    pacing = page.locator("#pacing-mode")
    await expect(pacing).to_contain_text("Power dialing. Never above 3% abandons.")
    await expect(page.locator('[data-stat="abandons_allowed_now"]')).to_have_text("4")
    await both_widths(page, shot, "dashboard-before")
    campaign = await engine.store.get_campaign(campaign_id)
    volunteer = await SimVolunteer.sign_in(engine, campaign, 1)
    await volunteer.call_in(pbx_pair, carrier)
    await page.wait_for_function(
        "() => document.querySelector('[data-stat=\"waiting\"]').textContent === '1'"
    )
    async with volunteer_taking_calls(engine, volunteer, calls=2) as calls:
        await engine.volunteers.start_calling(volunteer.session.id)
        await expect(page.locator("#calls-placed-last-hour")).not_to_have_text("0", timeout=40_000)
        await shot(page, "dashboard-calling")
        assert await asyncio.wait_for(calls, 60) == 2
    await expect(page.locator("#contacts-last-hour")).to_have_text("2", timeout=15_000)
    await expect(page.locator("#chart rect")).to_have_count(12)
    await expect(page.locator("#chart-text")).to_contain_text("2 contacts in the last 12 hours")
    await expect(page.locator("#pacing-text")).to_contain_text("Last decision:")
    await expect(pacing).to_contain_text("Learned from 2 calls.", timeout=15_000)
    # A call counts toward the contact rate once its outcome must be known: ring time + 10 s
    # after it was placed (engine/dialer/pacing/placed.py), then at the next 10 s refresh.
    people = page.locator('[data-stat="learned_contact_rate"]')
    await expect(people).to_have_text(re.compile("counting the first calls|100% of calls"))
    await expect(people).to_have_text("100% of calls", timeout=60_000)
    await expect(page.locator('[data-stat="abandons_30_days"]')).to_have_text("0 of 2 answers")
    await both_widths(page, shot, "dashboard-after")

    # Results: the table, filters and the CSV export.
    await page.get_by_role("link", name="Results").click()
    table = page.locator("#results-table tbody tr")
    await expect(table).to_have_count(2)
    await expect(table.first).to_contain_text("Vol 1")
    await both_widths(page, shot, "results")
    await page.get_by_label("Term code").select_option("remove")
    await page.get_by_role("button", name="Apply").click()
    await expect(page.locator("#no-results")).to_contain_text("No results match")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Export all results (CSV)").click()
    exported = (await (await download_info.value).path()).read_text()
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["term_code"] for r in rows] == ["talked", "talked"]
    assert {r["notes"] for r in rows} == {"call 1", "call 2"}
    assert all(r["Precinct"].startswith("P") for r in rows)

    # Do not call: add a number, then remove it after the confirmation page.
    await page.get_by_role("link", name="Do not call").click()
    await expect(page.locator(".empty")).to_contain_text("Nobody is on this list")
    await page.get_by_label("Phone number").fill("(202) 555-0199")
    await page.get_by_role("button", name="Add to the list").click()
    await expect(page.locator("#dnc-table")).to_contain_text("(202) 555-0199")
    await both_widths(page, shot, "dnc")
    await page.get_by_role("link", name="Remove (202) 555-0199…").click()
    await expect(page.get_by_role("heading")).to_contain_text("Remove (202) 555-0199")
    await both_widths(page, shot, "dnc-confirm")
    await page.get_by_role("button", name="Yes, remove it").click()
    await expect(page.locator("#done")).to_contain_text("removed")

    await page.get_by_role("link", name="Campaigns", exact=True).click()
    await expect(page.get_by_role("link", name=name)).to_be_visible()
    await both_widths(page, shot, "campaigns-one")
    await page.get_by_role("button", name=f"Log out {username}").click()
    await expect(page.get_by_role("heading", name="Operator login")).to_be_visible()
