"""Issue 14 item 1 in Firefox ESR (driven through Marionette) on the real PBX pair: a chosen
term code, an answer and notes typed but never sent with Next are kept when the wrap-up
deadline passes, and the volunteer goes back to ready with the one button the page offers.
The lean version of tests/e2e/test_wrapup_deadline.py."""

from __future__ import annotations

import uuid

from engine.app import Engine
from engine.ari.client import AriClient
from engine.models import ResultStatus, SessionState
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import make_campaign, voters_csv
from tests.e2e.other_browsers import BrowserShot, FirefoxPage, browser_shot, firefox
from tests.e2e.support import ONE_QUESTION, call_in_by_phone
from tests.helpers import wait_until

__all__ = ["browser_shot", "firefox"]  # the fixtures this module uses

WRAPUP_SECONDS = 12
NOTES = "Prefers evenings"


async def test_what_was_entered_is_kept_at_the_deadline_in_firefox(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    firefox: FirefoxPage,
    browser_shot: BrowserShot,
) -> None:
    campaign = await make_campaign(
        engine, voters_csv([("10", 72)]), survey=ONE_QUESTION, wrapup_seconds=WRAPUP_SECONDS
    )
    signup = await engine.volunteers.sign_up(
        "Mary Jackson", f"mary-{uuid.uuid4().hex[:6]}@example.org", "+12025550144"
    )
    await firefox.goto(f"{app_url}/signin?campaign={campaign.id}")
    await firefox.fill("#login-id", signup.login_id)
    await firefox.fill("#password", signup.password)
    await firefox.click("#signin-form button[type=submit]")
    await firefox.wait_for_url("/session")
    phone = await call_in_by_phone(firefox, pbx_pair, carrier)
    await firefox.click("#start")
    attempt_id = int(
        await firefox.wait_for_js(
            "return document.getElementById('voter-card').dataset.attemptId || null;",
            timeout=30,
            what="a voter's card",
        )
    )
    await firefox.click("#end-call")
    await firefox.wait_for_visible("#countdown-line")
    focused = await firefox.wait_for_js(
        "return document.activeElement?.closest('#term-codes') ? "
        "document.activeElement.dataset.code : null;",
        what="keyboard focus on the term codes",
    )
    assert focused == "talked"  # the first code
    await firefox.click("#term-codes button[data-code=talked]")
    await firefox.click("#q-support-0")
    await firefox.fill("#notes", NOTES)
    await firefox.wait_for_text("#draft-status", "saved as you type")
    await browser_shot(firefox, "typing-notes")

    await firefox.wait_for_visible("#step-missed", timeout=WRAPUP_SECONDS + 15)
    await firefox.wait_for_text("#missed-message", "^Your answers for Voter0")
    result = await engine.store.result_for_attempt(attempt_id)
    assert result is not None
    assert (result.status, result.term_code, result.answers, result.notes) == (
        ResultStatus.TIMED_OUT,
        "talked",
        {"support": "yes"},
        NOTES,
    )
    await browser_shot(firefox, "time-ran-out")
    await firefox.click("#missed-ready")

    async def ready() -> bool:
        return (await engine.store.get_session(result.session_id)).state == SessionState.READY

    await wait_until(ready, timeout=10, what="the session to be ready again")
    await firefox.wait_for_visible("#step-waiting")
    await firefox.click("#logout")
    await firefox.wait_for_url("/logged-out")
    await phone.wait_hung_up()
