"""axe-core (build/vendor/axe.min.js, `make axe`) on every page and every state of the volunteer's
session, in headless Chromium on the real PBX pair: no serious or critical violation anywhere.

The pages are one table, SCREENS, in the order they are visited: add a row for a new page (or
a new state of one) and, when it needs one, a step that puts the page in that state.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import FilePayload, Page, expect

from engine.app import Engine
from engine.ari.client import AriClient
from engine.models import Campaign, SessionState
from testbed.behaviours import voter_number
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.phones import VolunteerPhone
from testbed.shift import make_campaign, voters_csv
from tests.e2e.conftest import PageFactory, Shot
from tests.e2e.support import ONE_QUESTION
from tests.helpers import wait_until

AXE = Path(__file__).resolve().parents[2] / "build" / "vendor" / "axe.min.js"
PASSWORD = "correct horse battery"
BLOCKING = ("serious", "critical")
WRAPUP_SECONDS = 15

RUN_AXE = """async () => {
  const found = await axe.run(document, {resultTypes: ["violations"]});
  return found.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + ": " + n.failureSummary),
  }));
}"""


@dataclasses.dataclass
class World:
    """What the steps share: the engine, the phone network and what earlier steps made."""

    engine: Engine
    pair: PbxPair
    carrier: tuple[AriClient, EventLog]
    campaign: Campaign | None = None
    empty: Campaign | None = None
    phone: VolunteerPhone | None = None
    session_id: int = 0

    async def wait_session(self, state: SessionState) -> None:
        async def reached() -> bool:
            return (await self.engine.store.get_session(self.session_id)).state == state

        await wait_until(reached, 30, f"session {self.session_id} to be {state}")


Step = Callable[[Page, World], Awaitable[None]]


@dataclasses.dataclass(frozen=True)
class Screen:
    name: str
    path: str
    """Where to go ({campaign}: a campaign with voters, {empty}: one without); "" stays."""
    shows: str
    """A selector that is visible once the page shows the state to check."""
    step: Step | None = None
    """What to do on the page first, to reach the state."""


async def make_campaigns(page: Page, world: World) -> None:
    # A voter who rings for 4 s first, so the session page shows "ready" before the call.
    # A short wrap-up, so the page soon shows "Time ran out" (issue 14 item 1).
    world.campaign = await make_campaign(
        world.engine,
        voters_csv([("14", 4)]),
        ring_seconds=20,
        wrapup_seconds=WRAPUP_SECONDS,
        survey=ONE_QUESTION,
    )
    name = f"Empty {uuid.uuid4().hex[:4]}"
    world.empty = await world.engine.operators.create_campaign("test", name)
    await page.reload()


async def sign_in_volunteer(page: Page, world: World) -> None:
    signup = await world.engine.volunteers.sign_up(
        "Ada Lovelace", f"ada-{uuid.uuid4().hex[:6]}@example.org", "+12025550142"
    )
    await page.get_by_label("Login ID").fill(signup.login_id)
    await page.get_by_label("Password").fill(signup.password)
    await page.get_by_role("button", name="Sign In").click()
    await expect(page.locator("#pin")).to_have_text(re.compile(r"^\d+$"))
    token = await page.evaluate("() => sessionStorage.getItem('phonebank.token')")
    world.session_id = (await world.engine.volunteers.session_for_token(token)).id


async def call_in(page: Page, world: World) -> None:
    pin = (await page.locator("#pin").text_content() or "").strip()
    world.phone = await VolunteerPhone.call_in(world.pair, *world.carrier)
    await world.phone.send_dtmf(pin)


async def start_calling(page: Page, world: World) -> None:
    await world.engine.volunteers.start_calling(world.session_id)


async def talk(page: Page, world: World) -> None:
    await world.wait_session(SessionState.TALKING)


async def end_call(page: Page, world: World) -> None:
    await world.engine.volunteers.end_call(world.session_id)


async def choose_a_result(page: Page, world: World) -> None:
    """A term code, an answer and notes, never saved with Next: the deadline keeps them, so
    the Results page has a result to tally and chart."""
    await page.get_by_role("button", name="Talked to Correct Person").click()
    await page.get_by_label("Yes", exact=True).check()
    await page.get_by_label("Notes").fill("Wants a yard sign")


async def miss_the_deadline(page: Page, world: World) -> None:
    await world.wait_session(SessionState.PAUSED)


async def ready_again(page: Page, world: World) -> None:
    """Back to ready with the list finished: the page says why nobody is called."""
    await page.get_by_role("button", name="Ready for the next call").click()


async def sign_in_with_computer_audio(page: Page, world: World) -> None:
    """Another volunteer, on the browser softphone: its panel once the audio is connected."""
    signup = await world.engine.volunteers.sign_up(
        "Grace Hopper", f"grace-{uuid.uuid4().hex[:6]}@example.org", "+12025550143"
    )
    await page.get_by_label("Login ID").fill(signup.login_id)
    await page.get_by_label("Password").fill(signup.password)
    await page.get_by_label("Call using computer").check()
    await page.get_by_role("button", name="Sign In").click()
    await expect(page.locator("#softphone-state-text")).to_have_text(
        "Your computer's audio is connected.", timeout=30_000
    )


async def log_out_volunteer(page: Page, world: World) -> None:
    await page.get_by_role("button", name="Log out").first.click()


async def log_in_operator(page: Page, world: World) -> None:
    await operator_logs_in(page, world.engine)


async def operator_logs_in(page: Page, engine: Engine) -> None:
    """On the login page: a new operator logs in."""
    username = f"olive-{uuid.uuid4().hex[:4]}"
    await engine.operators.add_operator(username, PASSWORD)
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()


async def choose_file(page: Page, world: World) -> None:
    rows = "First Name,Last Name,Phone,ZIP\n" + "".join(
        f"V{n},B,{voter_number('10', n)},20001\n" for n in range(1, 4)
    )
    await page.get_by_label("CSV file").set_input_files(
        files=[FilePayload(name="list.csv", mimeType="text/csv", buffer=rows.encode())]
    )


async def import_file(page: Page, world: World) -> None:
    await page.get_by_role("button", name="Import").click()


async def add_question(page: Page, world: World) -> None:
    await page.get_by_role("button", name="Add question").click()


async def check_dnc_file(page: Page, world: World) -> None:
    numbers = "phone\n+12025550177\nnot a number\n"
    await page.get_by_label("CSV file").set_input_files(
        files=[FilePayload(name="dnc.csv", mimeType="text/csv", buffer=numbers.encode())]
    )
    await page.get_by_role("button", name="Check the file").click()


async def add_dnc(page: Page, world: World) -> None:
    await world.engine.operators.add_dnc("test", "+12025550199", None, "asked")
    await page.reload()


SCREENS: tuple[Screen, ...] = (
    Screen("operator login", "/operator/login", "form"),
    Screen("campaigns: none", "", ".empty", log_in_operator),
    Screen("campaigns", "", "main li h2", make_campaigns),
    # The volunteer's pages, then a whole shift on the phone path.
    Screen("volunteer index", "/", "h1"),
    Screen("join", "/join/{campaign}", "#signup-form"),
    Screen("sign-in", "/signin?campaign={campaign}", "#signin-form"),
    Screen("session: call in", "", "#step-connect", sign_in_volunteer),
    Screen("session: connected", "", "#start", call_in),
    Screen("session: ready", "", "#step-waiting", start_calling),
    Screen("session: in a call", "", "#voter-card", talk),
    Screen("session: wrap-up", "", "#wrapup", end_call),
    Screen("session: result chosen", "", "#next-step", choose_a_result),
    Screen("session: time ran out", "", "#step-missed", miss_the_deadline),
    Screen("session: nobody to call", "", "#idle-reason", ready_again),
    Screen(
        "dashboard: nobody to call", "/operator/campaigns/{campaign}/dashboard", "#availability"
    ),
    Screen("session: back from the dashboard", "/session", "#idle-reason"),
    Screen("logged out", "", "#ended-logout", log_out_volunteer),
    Screen("sign-in: computer audio", "/signin?campaign={campaign}", "#signin-form"),
    Screen("session: computer audio", "", "#start", sign_in_with_computer_audio),
    Screen("logged out: computer audio", "", "#ended-logout", log_out_volunteer),
    Screen("not found", "/no-such-page", "h1"),
    # The operator's pages.
    Screen("campaign form: new", "/operator/campaigns/new", "form"),
    Screen("campaign form: edit", "/operator/campaigns/{campaign}", "form"),
    Screen("campaign form: a new question", "", "#survey-builder .builder-card", add_question),
    Screen("list: empty", "/operator/campaigns/{empty}/list", ".empty"),
    Screen("list: preview", "", "#mapping-table", choose_file),
    Screen("list: report", "", "#report-counts", import_file),
    Screen("dashboard", "/operator/campaigns/{campaign}/dashboard", "#live-status"),
    Screen("results", "/operator/campaigns/{campaign}/results", "#tally-term-codes svg"),
    Screen("results: filtered", "/operator/campaigns/{campaign}/results?from=2020-01-01", "h1"),
    Screen("do not call: empty", "/operator/dnc", ".empty"),
    Screen("do not call", "/operator/dnc", "#dnc-table", add_dnc),
    Screen("do not call: file check", "", "#dnc-preview", check_dnc_file),
    Screen("do not call: remove", "/operator/dnc/remove?phone=%2B12025550199", "form"),
)


async def violations(page: Page) -> list[dict[str, object]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not await page.evaluate("() => typeof axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())  # evaluated by the driver: the CSP doesn't apply
    found: list[dict[str, object]] = await page.evaluate(RUN_AXE)
    return [v for v in found if v["impact"] in BLOCKING]


async def test_axe_finds_no_serious_violation_on_any_page(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
    shot: Shot,
) -> None:
    assert AXE.exists(), "axe-core is missing: run `make axe`"
    world = World(engine, pbx_pair, carrier)
    page = await new_page(1280, 900)
    problems: dict[str, object] = {}
    for screen in SCREENS:
        if screen.path:
            ids = {"campaign": world.campaign, "empty": world.empty}
            path = screen.path.format(**{k: c.id if c else 0 for k, c in ids.items()})
            await page.goto(app_url + path)
        if screen.step:
            await screen.step(page, world)
        reached = expect(page.locator(screen.shows).first, f"{screen.name}: {screen.shows}")
        await reached.to_be_visible(timeout=30_000)
        found = await violations(page)
        if found:
            problems[screen.name] = found
        await shot(page, re.sub(r"\W+", "-", screen.name))
    if world.phone:
        await world.phone.hangup()
    assert not problems, json.dumps(problems, indent=1)


FOCUS_RING = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let behind = "rgb(255, 255, 255)";
  for (let node = el.parentElement; node; node = node.parentElement) {
    const colour = getComputedStyle(node).backgroundColor;
    const parts = rgb(colour);
    if (parts.length < 4 || parts[3] > 0) { behind = colour; break; }
  }
  const style = getComputedStyle(el);
  const [a, b] = [lum(rgb(style.outlineColor)), lum(rgb(behind))];
  return {
    control: `${el.tagName}#${el.id} ${(el.textContent || el.name || "").trim().slice(0, 30)}`,
    shown: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
    ratio: Math.round(((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)) * 100) / 100,
  };
}"""


async def signed_in_operator(engine: Engine, page: Page, app_url: str) -> None:
    await page.goto(app_url + "/operator/login")
    await operator_logs_in(page, engine)
    await expect(page.get_by_role("heading", name="Campaigns", exact=True)).to_be_visible()


async def test_every_control_shows_a_focus_ring_of_at_least_3_to_1(
    app_url: str, engine: Engine, new_page: PageFactory
) -> None:
    """Tabbing through the sign-in page and the operator's pages (selects, inputs, buttons,
    links, a table; the campaign form's builder): each control gets an outline of 2 px or
    more, with a contrast of 3:1 or more against what is behind it (WCAG 2.2, 2.4.13)."""
    campaign = await engine.operators.create_campaign("test", f"Focus {uuid.uuid4().hex[:4]}")
    await engine.operators.add_dnc("test", "+12025550188", None, "asked")
    page = await new_page(1280, 900)
    weak: list[object] = []
    seen = 0
    await signed_in_operator(engine, page, app_url)
    operator = f"/operator/campaigns/{campaign.id}"
    pages = (f"/signin?campaign={campaign.id}", "/operator/dnc", operator, f"{operator}/list")
    for path in (*pages, f"{operator}/dashboard", f"{operator}/results"):
        await page.goto(app_url + path)
        await page.locator("body").focus()
        controls: set[str] = set()
        for _ in range(40):
            await page.keyboard.press("Tab")
            ring = await page.evaluate(FOCUS_RING)
            if ring is None or ring["control"] in controls:
                break
            controls.add(ring["control"])
            if not ring["shown"] or ring["ratio"] < 3:
                weak.append({"page": path, **ring})
        seen += len(controls)
    assert seen >= 60, f"only {seen} controls were reached by Tab"
    assert not weak, json.dumps(weak, indent=1)


async def test_the_sign_in_form_starts_in_the_login_id(
    app_url: str, engine: Engine, new_page: PageFactory
) -> None:
    await engine.operators.create_campaign("test", f"Autofocus {uuid.uuid4().hex[:4]}")
    page = await new_page(375, 800)
    await page.goto(app_url + "/signin")
    await expect(page.get_by_label("Login ID")).to_be_focused()
    await page.keyboard.type("ABC")  # typing at once goes into the field
    await expect(page.get_by_label("Login ID")).to_have_value("ABC")


async def test_the_favicon_is_linked_from_pages_and_served(
    app_url: str, new_page: PageFactory
) -> None:
    page = await new_page(1280, 800)
    for path in ("/", "/operator/login"):
        await page.goto(app_url + path)
        icon = await page.locator("link[rel=icon]").get_attribute("href")
        assert icon and icon.startswith("/static/favicon.svg")
        linked = await page.request.get(app_url + icon)
        assert linked.ok and linked.headers["content-type"].startswith("image/svg+xml")
        assert "<svg" in await linked.text()
    asked = await page.request.get(app_url + "/favicon.ico")
    assert asked.ok and asked.headers["content-type"].startswith("image/svg+xml")
