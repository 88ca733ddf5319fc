"""The voter-list upload forgives what spreadsheets produce (issue 14 item 6), and the
do-not-call list names who added each number and takes a CSV of numbers (item 8).

Campaigns, operators and volunteers are made through the services; the upload, the column
mapping, the report and the do-not-call pages are driven in Chromium."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime
from itertools import count

from playwright.async_api import FilePayload, Page, Route, expect

from engine.app import Engine
from engine.ari.client import AriClient
from engine.errors import NotFound
from engine.models import AfterResult, SessionState, Voter
from engine.voters.phone_display import format_phone
from testbed.behaviours import voter_number
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import SimVolunteer, make_campaign, voters_csv
from tests.e2e.conftest import PageFactory, Shot
from tests.e2e.support import both_widths

PASSWORD = "correct horse battery"


def shown(phone: str) -> str:
    """How the pages show a number: national format ("(202) 555-0131")."""
    return format_phone(phone, "US")


async def signed_in(engine: Engine, app_url: str, new_page: PageFactory) -> tuple[Page, str]:
    username = f"ines-{uuid.uuid4().hex[:4]}"
    await engine.operators.add_operator(username, PASSWORD)
    page = await new_page(1280, 900)
    await page.goto(app_url + "/operator/login")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Campaigns", exact=True)).to_be_visible()
    return page, username


async def list_page(engine: Engine, app_url: str, page: Page) -> int:
    campaign = await engine.operators.create_campaign("test", f"Liste {uuid.uuid4().hex[:4]}")
    await page.goto(f"{app_url}/operator/campaigns/{campaign.id}/list")
    return campaign.id


async def choose_file(page: Page, name: str, content: str, encoding: str = "utf-8") -> None:
    await page.get_by_label("CSV file").set_input_files(
        files=[FilePayload(name=name, mimeType="text/csv", buffer=content.encode(encoding))]
    )


async def voters_of(engine: Engine, campaign_id: int) -> list[Voter]:
    """Every voter of the campaign (this module's database is its own)."""
    found: list[Voter] = []
    for voter_id in count(1):
        try:
            voter = await engine.store.get_voter(voter_id)
        except NotFound:
            return found
        if voter.campaign_id == campaign_id:
            found.append(voter)
    return found


async def test_a_german_list_is_mapped_in_the_preview_and_imported_as_mapped(
    app_url: str, engine: Engine, new_page: PageFactory, shot: Shot
) -> None:
    page, _ = await signed_in(engine, app_url, new_page)
    campaign_id = await list_page(engine, app_url, page)
    await choose_file(
        page,
        "wahlkreis.csv",
        "Vorname;Name;Telefon;PLZ;Stadt;Notiz\n"
        "Jürgen;Groß;+12025550101;10115;Berlin;ruft zurück\n"
        "Anna;Weiß;+12025550102;80331;München;\n",
    )
    expected = {"Vorname": "first_name", "Name": "extra", "Telefon": "phone", "PLZ": "zip"}
    for header, target in expected.items():
        await expect(page.get_by_label(f"Use of column “{header}”")).to_have_value(target)
    await expect(page.get_by_label("Use of column “Stadt”")).to_have_value("city")
    await expect(page.locator("#mapping-meta")).to_contain_text("Unicode (UTF-8)")
    await expect(page.locator("#mapping-rows")).to_contain_text("Jürgen · +12025550101")

    await page.get_by_label("Use of column “Name”").select_option(label="Last name")
    await expect(page.locator("#mapping-status")).to_contain_text(
        "“Name” is now read as: Last name"
    )
    await expect(page.locator("#mapping-rows")).to_contain_text("Jürgen Groß · +12025550101")
    await page.get_by_label("Use of column “Notiz”").select_option("ignore")
    await expect(page.get_by_label("Use of column “Notiz”")).to_have_value("ignore")
    await both_widths(page, shot, "german-mapping")

    await page.get_by_role("button", name="Import").click()
    await expect(page.locator("#report-counts")).to_contain_text("imported2")
    await expect(page.locator("#report-lines")).to_contain_text("2 rows read (Unicode (UTF-8))")
    voters = sorted(await voters_of(engine, campaign_id), key=lambda v: v.phone)
    assert [(v.first_name, v.last_name, v.zip, v.city, v.extra) for v in voters] == [
        ("Jürgen", "Groß", "10115", "Berlin", {}),
        ("Anna", "Weiß", "80331", "München", {}),
    ]
    await both_widths(page, shot, "german-report")


async def test_french_and_spanish_headers_are_recognised_and_the_encoding_named(
    app_url: str, engine: Engine, new_page: PageFactory, shot: Shot
) -> None:
    """A French list saved by Excel on Windows (cp1252: "Téléphone" is not UTF-8) and a
    Spanish one: each column is read as what it is, without choosing, and the encoding is
    named for people."""
    page, _ = await signed_in(engine, app_url, new_page)
    campaign_id = await list_page(engine, app_url, page)
    french = "Prénom;Nom;Téléphone;Code postal;Ville\nHélène;Dubé;+12025550161;75011;Paris\n"
    await choose_file(page, "électeurs.csv", french, encoding="cp1252")
    expected = {"Prénom": "first_name", "Nom": "last_name", "Téléphone": "phone"}
    expected |= {"Code postal": "zip", "Ville": "city"}
    for header, target in expected.items():
        await expect(page.get_by_label(f"Use of column “{header}”")).to_have_value(target)
    await expect(page.locator("#mapping-meta")).to_contain_text("Windows Western (cp1252)")
    await expect(page.locator("#mapping-rows")).to_contain_text("Hélène Dubé · +12025550161")
    await both_widths(page, shot, "french-mapping")

    spanish = (
        "Nombre,Apellido,Teléfono,Código postal,Ciudad\nLucía,Peña,+12025550162,28001,Madrid\n"
    )
    await choose_file(page, "votantes.csv", spanish)
    expected = {"Nombre": "first_name", "Apellido": "last_name", "Teléfono": "phone"}
    expected |= {"Código postal": "zip", "Ciudad": "city"}
    for header, target in expected.items():
        await expect(page.get_by_label(f"Use of column “{header}”")).to_have_value(target)
    await expect(page.locator("#mapping-meta")).to_contain_text("Unicode (UTF-8)")
    await page.get_by_role("button", name="Import").click()
    await expect(page.locator("#report-counts")).to_contain_text("imported1")
    [voter] = await voters_of(engine, campaign_id)
    assert (voter.first_name, voter.last_name, voter.phone, voter.zip, voter.city) == (
        "Lucía",
        "Peña",
        "+12025550162",
        "28001",
        "Madrid",
    )


async def test_a_file_chosen_before_the_page_script_ran_is_previewed(
    app_url: str, engine: Engine, new_page: PageFactory
) -> None:
    """The page's script arrives late (held here until the file is chosen): the file already
    in the input is still previewed, as one chosen afterwards would be."""
    page, _ = await signed_in(engine, app_url, new_page)
    campaign = await engine.operators.create_campaign("test", f"Liste {uuid.uuid4().hex[:4]}")
    chosen = asyncio.Event()

    async def hold(route: Route) -> None:
        await chosen.wait()
        await route.continue_()

    await page.route("**/static/operator-import.js*", hold)
    await page.goto(f"{app_url}/operator/campaigns/{campaign.id}/list", wait_until="commit")
    await choose_file(page, "early.csv", "Cell Phone,First Name\n+12025550171,Early\n")
    chosen.set()
    await expect(page.locator("#mapping-rows")).to_contain_text("Early · +12025550171")
    await expect(page.get_by_label("Use of column “Cell Phone”")).to_have_value("phone")


async def test_an_unrecognised_phone_column_is_chosen_in_the_preview(
    app_url: str, engine: Engine, new_page: PageFactory, shot: Shot
) -> None:
    page, _ = await signed_in(engine, app_url, new_page)
    campaign_id = await list_page(engine, app_url, page)
    await choose_file(page, "kontakte.csv", "Vorname,Kontakt\nAna,+12025550151\n")
    alert = page.locator("#preview-error")
    await expect(alert).to_have_text(
        "No column was recognised as the phone number: choose it under “Used as” before importing."
    )
    await expect(page.get_by_label("Use of column “Kontakt”")).to_have_value("extra")
    await both_widths(page, shot, "no-phone-column")
    await page.get_by_label("Use of column “Kontakt”").select_option("phone")
    await expect(alert).to_be_empty()
    await expect(page.locator("#mapping-rows")).to_contain_text("Ana · +12025550151")
    await page.get_by_role("button", name="Import").click()
    await expect(page.locator("#report-counts")).to_contain_text("imported1")
    [voter] = await voters_of(engine, campaign_id)
    assert (voter.first_name, voter.phone) == ("Ana", "+12025550151")


async def test_a_ragged_file_imports_with_only_the_overfull_line_reported(
    app_url: str, engine: Engine, new_page: PageFactory, shot: Shot
) -> None:
    page, _ = await signed_in(engine, app_url, new_page)
    campaign_id = await list_page(engine, app_url, page)
    await choose_file(
        page,
        "ragged.csv",
        "phone,first_name,last_name,zip,party\n"
        "+12025550111,Ana,Diaz,20001,D\n"
        "+12025550112,Bo\n"  # trailing optional columns left out
        "+12025550113,Cy,Ng,,,,,\n"  # extra empty trailing fields
        "+12025550114,Di,Li,20001,R,surprise\n",  # a filled field under no column
    )
    await expect(page.locator("#mapping-rows")).to_contain_text("Bo · +12025550112")
    await page.get_by_role("button", name="Import").click()
    await expect(page.locator("#report-counts")).to_contain_text("imported3")
    await expect(page.locator("#report-counts")).to_contain_text("rejected1")
    rows = page.locator("#report-errors tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("5")
    await expect(rows.first).to_contain_text("row has 6 fields, header has 5")
    await expect(page.locator("#errors-range")).to_contain_text("Rejected rows 1–1 of 1")
    await expect(page.locator("#report-lines")).to_contain_text(
        "1 row had fewer columns than the header: the missing fields were left empty."
    )
    names = {(v.first_name, v.last_name, v.zip) for v in await voters_of(engine, campaign_id)}
    assert names == {("Ana", "Diaz", "20001"), ("Bo", "", ""), ("Cy", "Ng", "")}
    await both_widths(page, shot, "ragged-report")


async def test_a_long_error_list_is_paged_with_its_total(
    app_url: str, engine: Engine, new_page: PageFactory, shot: Shot
) -> None:
    page, _ = await signed_in(engine, app_url, new_page)
    await list_page(engine, app_url, page)
    bad = "".join(f"Voter{n},not a phone {n}\n" for n in range(1, 1_201))
    await choose_file(page, "bad.csv", f"name,phone\nGood One,+12025550121\n{bad}")
    await page.get_by_role("button", name="Import").click()
    await expect(page.locator("#report-counts")).to_contain_text("rejected1,200")
    await expect(page.locator("#report-lines")).to_contain_text("1,201 rows read")
    rows = page.locator("#report-errors tbody tr")
    await expect(rows).to_have_count(50)
    await expect(page.locator("#errors-range")).to_have_text(
        "Rejected rows 1–50 of 1,200; page 1 of 24."
    )
    await expect(page.get_by_role("button", name="Previous page")).to_be_disabled()
    await page.get_by_role("button", name="Next page").click()
    await expect(page.locator("#errors-range")).to_contain_text("Rejected rows 51–100 of 1,200")
    await expect(rows.first).to_contain_text("53")
    await both_widths(page, shot, "errors-page-2")
    for _ in range(22):
        await page.get_by_role("button", name="Next page").click()
    await expect(page.locator("#errors-range")).to_contain_text("1,151–1,200 of 1,200; page 24")
    await expect(rows.last).to_contain_text("1,202")
    await expect(page.get_by_role("button", name="Next page")).to_be_disabled()


async def test_the_dnc_list_names_who_added_each_number_and_takes_a_csv(
    app_url: str, engine: Engine, new_page: PageFactory, shot: Shot
) -> None:
    page, username = await signed_in(engine, app_url, new_page)
    campaign = await engine.operators.create_campaign("test", f"DNC {uuid.uuid4().hex[:4]}")
    signup = await engine.volunteers.sign_up(
        "Rosa Parra", f"rosa-{uuid.uuid4().hex}@e.org", "555-0100"
    )
    signin = await engine.volunteers.sign_in(
        signup.login_id, signup.password, campaign.id, "phone", "127.0.0.1"
    )
    by = f"session {signin.session.id}"  # what a volunteer's Remove Number stores
    await engine.store.add_dnc("+12025550131", campaign.id, "Remove Number", by, datetime.now(UTC))
    await engine.operators.add_dnc(username, "+12025550132", campaign.id, "asked by email")

    await page.goto(f"{app_url}/operator/dnc?campaign_id={campaign.id}")
    table = page.locator("#dnc-table")
    await expect(table.locator("tr", has_text=shown("+12025550131"))).to_contain_text(
        "Rosa Parra (volunteer)"
    )
    await expect(table.locator("tr", has_text=shown("+12025550132"))).to_contain_text(
        f"{username} (operator)"
    )
    await expect(table).not_to_contain_text("session ")
    await expect(table.locator("tr", has_text=shown("+12025550131"))).to_contain_text(" UTC")
    await both_widths(page, shot, "dnc-added-by")

    numbers = "Telefon,Notiz\n(202) 555-0141,asked\nruft nie an,x\n202-555-0142,\n+12025550132,\n"
    await page.get_by_label("CSV file").set_input_files(
        files=[FilePayload(name="optout.csv", mimeType="text/csv", buffer=numbers.encode())]
    )
    await page.locator("#dnc-upload").get_by_label("Reason (optional)").fill("opt-out list")
    await page.get_by_role("button", name="Check the file").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Add 2 numbers to the do-not-call list?"
    )
    counts = page.locator("#dnc-preview-counts")
    await expect(counts).to_contain_text("1 already on this list.")
    await expect(counts).to_contain_text("1 line not a phone number")
    await expect(page.locator("#dnc-not-numbers")).to_contain_text("ruft nie an")
    assert len(await engine.store.list_dnc(campaign.id)) == 2  # nothing added yet
    await both_widths(page, shot, "dnc-csv-preview")

    await page.get_by_role("button", name="Add 2 numbers").click()
    await expect(page.locator("#done")).to_contain_text("added 2 numbers from the file")
    await expect(page).to_have_url(re.compile(rf"campaign_id={campaign.id}"))
    for phone in ("+12025550141", "+12025550142"):
        await expect(table.locator("tr", has_text=shown(phone))).to_contain_text("opt-out list")
    assert {e.phone for e in await engine.store.list_dnc(campaign.id)} == {
        "+12025550131",
        "+12025550132",
        "+12025550141",
        "+12025550142",
    }
    await both_widths(page, shot, "dnc-csv-added")


async def test_a_volunteers_remove_number_names_them_on_the_dnc_list(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
    shot: Shot,
) -> None:
    """A real call on the PBX pair: the volunteer talks to the voter and chooses Remove
    Number; the operator's list shows the volunteer's name, not their session."""
    page, _ = await signed_in(engine, app_url, new_page)
    campaign = await make_campaign(engine, voters_csv([("10", 61)]), dial_mode="power")
    volunteer = await SimVolunteer.sign_in(engine, campaign, 61)
    await volunteer.call_in(pbx_pair, carrier)
    assert volunteer.phone is not None
    try:
        await engine.volunteers.start_calling(volunteer.session.id)
        session = await volunteer.wait_state(SessionState.TALKING, timeout=40)
        await engine.volunteers.end_call(session.id)
        await volunteer.wait_state(SessionState.WRAP_UP, timeout=10)
        await engine.volunteers.submit_result(session.id, "remove", {}, "", AfterResult.PAUSE)
    finally:
        await volunteer.phone.hangup()
    await page.goto(f"{app_url}/operator/dnc?campaign_id={campaign.id}")
    row = page.locator("#dnc-table tr", has_text=shown(voter_number("10", 61)))
    await expect(row).to_contain_text("Remove Number")
    await expect(row).to_contain_text("Vol 61 (volunteer)")
    await both_widths(page, shot, "dnc-remove-number")
