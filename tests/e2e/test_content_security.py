"""The Content-Security-Policy in a real browser: the volunteer's and the operator's pages
(the browser softphone included) run with no violation reported, a hostile call script
runs nothing, and script injected into a page's DOM is blocked by the policy."""

from __future__ import annotations

import uuid

from playwright.async_api import ConsoleMessage, Page, Route, expect

from engine.app import Engine
from engine.ari.client import AriClient
from testbed.behaviours import voter_number
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import make_campaign, voters_csv
from tests.e2e.conftest import PageFactory, Shot
from tests.e2e.support import card_latency
from tests.e2e.test_softphone import CONNECTED, session_id_of, sign_in_with_computer
from tests.e2e.test_volunteer_path import call_in, sign_in
from tests.helpers import wait_until

ATTACK = (
    "<p>Hello <b>{{ first_name }}</b>, this is {{ volunteer }}.</p>"
    "<img src=x onerror=\"window.pwned = 'img'\">"
    "<script>window.pwned = 'script'</script>"
    "<a href=\"javascript:window.pwned='link'\">more</a>"
)
INJECT = """() => {
  const s = document.createElement("script");
  s.textContent = "window.pwned = 'inline script'";
  document.body.appendChild(s);
  const div = document.createElement("div");
  div.innerHTML = '<img src="data:," onerror="window.pwned = \\'handler\\'">';
  document.body.appendChild(div);
}"""
PASSWORD = "a long operator password"


async def watch_csp(page: Page) -> list[str]:
    """Every CSP violation the page reports (event or console), as text, as they come."""
    seen: list[str] = []
    await page.expose_function("reportCspViolation", lambda text: seen.append(text))
    await page.add_init_script(
        """document.addEventListener("securitypolicyviolation", (e) =>
             window.reportCspViolation(`${e.violatedDirective} ${e.blockedURI}`));"""
    )

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            seen.append(message.text)

    page.on("console", on_console)
    return seen


async def assert_injection_blocked(page: Page, violations: list[str]) -> None:
    before = len(violations)
    await page.evaluate(INJECT)
    await wait_until(lambda: len(violations) - before >= 2, what="the policy to report both")
    assert await page.evaluate("window.pwned") is None
    assert any("script-src" in v for v in violations[before:]), violations[before:]
    del violations[before:]


async def test_the_volunteer_page_runs_clean_and_a_hostile_script_does_nothing(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    new_page: PageFactory,
    shot: Shot,
) -> None:
    csv = f"first_name,last_name,phone\nAnn,Lee,{voter_number('10', 7)}\n".encode()
    campaign = await make_campaign(engine, csv, script=ATTACK, wrapup_seconds=30)
    page = await new_page(1280, 900)
    violations = await watch_csp(page)
    await sign_in(page, app_url, engine, campaign)
    phone = await call_in(page, pbx_pair, carrier)
    await page.get_by_role("button", name="Click here to start calling").click()
    await card_latency(page, engine)
    await expect(page.locator("#script b")).to_have_text("Ann")
    assert await page.locator("#script img, #script script").count() == 0
    await page.locator("#script a").click()  # the javascript: link lost its href
    await shot(page, "voter-card")
    assert await page.evaluate("window.pwned") is None
    assert violations == []
    assert page.dialogs == []  # type: ignore[attr-defined]
    await assert_injection_blocked(page, violations)
    await page.get_by_role("button", name="Log out").first.click()
    await page.wait_for_url("**/logged-out")
    await phone.wait_hung_up()
    assert violations == []


async def test_the_softphone_connects_under_the_policy(
    app_url: str, engine: Engine, new_page: PageFactory, shot: Shot
) -> None:
    campaign = await make_campaign(engine, voters_csv([("13", 2)]))
    page = await new_page(1280, 900)
    violations = await watch_csp(page)
    await sign_in_with_computer(page, app_url, engine, campaign)
    await expect(page.get_by_text(CONNECTED)).to_be_visible(timeout=20_000)
    await shot(page, "softphone-connected")
    assert violations == []
    await page.get_by_role("button", name="Log out").first.click()
    await page.wait_for_url("**/logged-out")
    assert violations == []


async def test_a_phone_server_the_policy_does_not_list_says_it_cannot_be_reached(
    app_url: str, engine: Engine, new_page: PageFactory, shot: Shot
) -> None:
    """A deployment whose softphone URL differs from the PBX the policy names is told so in
    words, not left "Connecting…" (the browser refuses the socket; JsSIP never notices)."""
    campaign = await make_campaign(engine, voters_csv([("10", 9)]))
    page = await new_page(1280, 900)
    violations = await watch_csp(page)

    async def elsewhere(route: Route) -> None:
        response = await route.fetch()
        view = await response.json()
        view["softphone"]["ws_url"] = "ws://127.0.0.1:9/ws"  # not in connect-src
        await route.fulfill(response=response, json=view)

    await page.route("**/api/session", elsewhere)
    await sign_in_with_computer(page, app_url, engine, campaign)
    await expect(page.locator("#softphone-error")).to_contain_text("cannot reach the phone server")
    await expect(page.locator("#softphone-fallback")).to_be_visible()
    assert any("connect-src" in v for v in violations), violations
    await shot(page, "refused-by-policy")
    await engine.volunteers.log_out(await session_id_of(page))


async def test_the_operator_pages_run_clean(
    app_url: str, engine: Engine, new_page: PageFactory, shot: Shot
) -> None:
    username = f"csp-{uuid.uuid4().hex[:6]}"
    await engine.operators.add_operator(username, PASSWORD)
    campaign = await make_campaign(engine, voters_csv([("13", 3)]), script=ATTACK)
    page = await new_page(1280, 900)
    violations = await watch_csp(page)
    await page.goto(app_url + "/operator")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Campaigns", exact=True)).to_be_visible()
    await page.goto(f"{app_url}/operator/campaigns/{campaign.id}")
    await expect(page.locator("#script-preview b")).to_have_text("Pat")
    # The live preview posts with the CSRF token now read from a data attribute.
    script = page.get_by_label("Script")
    await script.fill("")
    await script.press_sequentially("<i>Hi</i> {{ first_name }}<img src=x onerror=alert(1)>")
    await expect(page.locator("#script-preview")).to_have_text("Hi Pat")
    assert await page.locator("#script-preview img").count() == 0
    await shot(page, "campaign-form")
    for path in ("dashboard", "list", "results"):
        await page.goto(f"{app_url}/operator/campaigns/{campaign.id}/{path}")
        await page.wait_for_load_state("networkidle")
        await shot(page, path)
    await expect(page.get_by_role("link", name="Export all results (CSV)")).to_be_visible()
    await page.goto(f"{app_url}/operator/campaigns/{campaign.id}/dashboard")
    await expect(page.get_by_text("Live: updates as calls happen.")).to_be_visible()
    await page.goto(app_url + "/operator/dnc")
    await shot(page, "dnc")
    assert violations == []
    assert page.dialogs == []  # type: ignore[attr-defined]
    await assert_injection_blocked(page, violations)
    assert violations == []
