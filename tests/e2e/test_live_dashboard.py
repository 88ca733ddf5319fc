"""Issue 14 items 2 and 5, in headless Chromium on the real PBX pair: an empty shift explains
itself to the volunteer and on the dashboard (with 0 calls placed and no call on the PBX), and
the dashboard shows each signed-in volunteer live (state, time in it, calls and contacts) with
the contacts chart on the campaign's clock."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect

from engine.app import Engine
from engine.ari.client import AriClient
from engine.dialer.resume_times import local_clock
from engine.models import AfterResult, SessionState
from testbed.behaviours import voter_number
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import SimVolunteer, make_campaign, voters_csv
from tests.e2e.conftest import PageFactory, Shot
from tests.e2e.support import both_widths
from tests.e2e.test_volunteer_path import call_in, sign_in

PASSWORD = "a dashboard password"
EASTERN = ZoneInfo("America/New_York")  # the voters' ZIP 20001


def hours_excluding_now(now: datetime) -> tuple[str, str]:
    """Calling hours (HH:MM) that the voters' clock at ``now`` is outside of."""
    hour = now.astimezone(EASTERN).hour
    if hour < 12:
        return f"{hour + 2:02d}:00", f"{hour + 3:02d}:00"
    return "06:00", f"{hour - 1:02d}:00"


async def log_in_to_dashboard(page: Page, app_url: str, engine: Engine, campaign_id: int) -> None:
    username = f"op{uuid.uuid4().hex[:6]}"
    await engine.operators.add_operator(username, PASSWORD)
    await page.goto(f"{app_url}/operator/campaigns/{campaign_id}/dashboard")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#live-status")).to_have_text(re.compile("^Live"))


async def test_an_empty_shift_explains_itself_and_places_no_call(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
    shot: Shot,
) -> None:
    start, end = hours_excluding_now(datetime.now(EASTERN))
    voters = voters_csv([("10", 1), ("10", 2), ("10", 3)])
    campaign = await make_campaign(engine, voters, calling_hours_start=start, calling_hours_end=end)
    page = await new_page(1280, 900)
    await sign_in(page, app_url, engine, campaign)
    phone = await call_in(page, pbx_pair, carrier)
    since = carrier[1].mark()
    await page.locator("#start").click()

    reason = page.locator("#idle-reason")
    await expect(reason).to_be_visible()
    await expect(reason).to_contain_text("Every voter left is outside calling hours now.")
    await expect(reason).to_contain_text(
        f"Calling resumes at {local_clock(start)} in the voters' time zones (the first at "
    )
    await expect(reason).to_contain_text(re.compile(r"\d:\d\d [ap]\.m\. E[SD]T"))
    await expect(page.locator("#waiting-title")).to_have_text("Nobody to call right now")
    await expect(page.locator("#status")).to_be_hidden()  # not "Waiting for the next call…"
    await both_widths(page, shot, "volunteer-idle")

    board = await new_page(1280, 900)
    await log_in_to_dashboard(board, app_url, engine, campaign.id)
    panel = board.locator("#availability")
    await expect(panel).to_be_visible()
    await expect(board.locator("#availability-message")).to_contain_text(
        f"Calling resumes at {local_clock(start)}"
    )
    await expect(panel.locator("[data-idle=outside_hours]")).to_have_text("3")
    await expect(panel.locator("[data-idle=finished]")).to_have_text("0")
    await expect(board.locator("#calls-placed-last-hour")).to_have_text("0")
    await expect(board.locator("#on-shift tbody tr")).to_have_count(1)
    await expect(board.locator("#on-shift td[data-label=Doing]")).to_have_text("Ready")
    await both_widths(board, shot, "dashboard-idle")

    assert await engine.store.list_attempts(campaign.id) == []
    started = [e for e in carrier[1].events[since:] if e.get("type") == "StasisStart"]
    assert started == [], "the carrier saw a call although nobody could be called"
    stats = await engine.operators.stats(campaign.id)
    assert stats["calls_placed_last_hour"] == 0
    assert stats["pacing"]["last_decision"]["placed"] == 0

    # calling hours that include now: calls go out and the explanation goes away
    await engine.operators.update_campaign(
        "test", campaign.id, calling_hours_start="00:00", calling_hours_end="24:00"
    )
    await expect(reason).to_be_hidden(timeout=20_000)
    await expect(page.locator("#status")).to_be_visible()
    await expect(panel).to_be_hidden(timeout=20_000)
    session = await engine.volunteers.session_for_token(
        await page.evaluate("sessionStorage.getItem('phonebank.token')")
    )
    await engine.volunteers.log_out(session.id)
    await phone.wait_hung_up()


async def test_a_shift_whose_voters_are_all_on_the_do_not_call_list_says_what_next(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
    shot: Shot,
) -> None:
    """The reason has no time to wait for: the page says so and what the volunteer can do."""
    campaign = await make_campaign(engine, voters_csv([("10", 5)]))
    await engine.operators.add_dnc("test", voter_number("10", 5), campaign.id, "asked")
    page = await new_page(1280, 900)
    await sign_in(page, app_url, engine, campaign)
    phone = await call_in(page, pbx_pair, carrier)
    since = carrier[1].mark()
    await page.locator("#start").click()
    reason = page.locator("#idle-reason")
    await expect(reason).to_have_text(
        "Every voter left is on the do-not-call list: there is nobody more to call. You can "
        "log out, or stay ready: if the organizers add voters, calls start again."
    )
    await both_widths(page, shot, "volunteer-all-dnc")

    board = await new_page(1280, 900)
    await log_in_to_dashboard(board, app_url, engine, campaign.id)
    await expect(board.locator("#availability [data-idle=do_not_call]")).to_have_text("1")
    await expect(board.locator("#calls-placed-last-hour")).to_have_text("0")
    await both_widths(board, shot, "dashboard-all-dnc")
    assert await engine.store.list_attempts(campaign.id) == []
    assert not [e for e in carrier[1].events[since:] if e.get("type") == "StasisStart"]
    await page.get_by_role("button", name="Log out").first.click()
    await page.wait_for_url("**/logged-out")
    await phone.wait_hung_up()


async def test_the_dashboard_shows_each_volunteer_live(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
    shot: Shot,
) -> None:
    campaign = await make_campaign(engine, voters_csv([("10", 4)]), dial_mode="power")
    board = await new_page(1280, 900)
    await log_in_to_dashboard(board, app_url, engine, campaign.id)
    # the coordinator sets the campaign's clock on its form (the voters are in New York)
    await board.goto(f"{app_url}/operator/campaigns/{campaign.id}")
    await board.get_by_label("Campaign time zone").fill("America/Chicago")
    await board.get_by_role("button", name="Save changes").click()
    await expect(board.locator("#saved")).to_contain_text("Saved.")
    assert (await engine.store.get_campaign(campaign.id)).time_zone == "America/Chicago"
    await board.goto(f"{app_url}/operator/campaigns/{campaign.id}/dashboard")
    await expect(board.locator("#live-status")).to_have_text(re.compile("^Live"))
    empty = board.locator("#no-volunteers")
    await expect(empty).to_contain_text("No volunteers are signed in. Share the sign-in link:")
    await expect(empty.get_by_role("link")).to_have_attribute(
        "href", re.compile(f"/join/{campaign.id}$")
    )
    await both_widths(board, shot, "dashboard-empty")

    talker = await SimVolunteer.sign_in(engine, campaign, 1)
    await talker.call_in(pbx_pair, carrier)
    await engine.volunteers.start_calling(talker.session.id)
    await talker.wait_state(SessionState.TALKING, timeout=40)
    rows = board.locator("#on-shift tbody tr")
    row = board.locator(f"#on-shift tr[data-session='{talker.session.id}']")
    await expect(row.locator("td[data-label=Doing]")).to_have_text("Talking")
    await expect(row.locator("td[data-label=Audio]")).to_have_text("Phone")
    await expect(row.locator("td[data-label=For]")).to_have_text(re.compile(r"^0:0[2-9]$"))

    waiter = await SimVolunteer.sign_in(engine, campaign, 2)
    other = board.locator(f"#on-shift tr[data-session='{waiter.session.id}']")
    await expect(other.locator("td[data-label=Doing]")).to_have_text("Waiting for phone")
    # the counts above the table use the table's words
    tiles = board.locator("#volunteers dt")
    await expect(tiles).to_contain_text(["ready or connected", "talking", "wrap-up", "on break"])
    await expect(tiles).to_contain_text(["waiting for phone"])
    await expect(rows).to_have_count(2)
    await both_widths(board, shot, "dashboard-talking")

    await engine.volunteers.end_call(talker.session.id)
    await expect(row.locator("td[data-label=Doing]")).to_have_text("Wrap-up")
    await engine.volunteers.submit_result(
        talker.session.id, "talked", {}, "Friendly", AfterResult.PAUSE
    )
    await expect(row.locator("td[data-label=Doing]")).to_have_text("On break")
    await expect(row.locator("td[data-label=Calls]")).to_have_text("1")
    await expect(row.locator("td[data-label=Contacts]")).to_have_text("1")
    await expect(other.locator("td[data-label=Calls]")).to_have_text("0")
    await expect(board.locator("#chart-title")).to_contain_text("America/Chicago")
    await expect(board.locator("#chart-text")).to_contain_text("1 contact in the last 12 hours")
    hour = datetime.now(ZoneInfo("America/Chicago")).strftime("%H:00")
    await expect(board.locator("#chart-table tbody tr").last).to_contain_text(hour)
    await both_widths(board, shot, "dashboard-after-call")

    for volunteer in (talker, waiter):
        await engine.volunteers.log_out(volunteer.session.id)
    assert talker.phone is not None
    await talker.phone.wait_hung_up()
    await expect(empty).to_be_visible(timeout=15_000)
