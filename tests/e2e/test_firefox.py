"""The volunteer's path in Firefox ESR (Debian's firefox-esr, headless, driven through
Marionette) on the real PBX pair: sign-up to log-out with the phone call-in, and "Call using
computer" with audio both ways. Firefox's fake microphone (a tone) is the volunteer's voice."""

from __future__ import annotations

from engine.app import Engine
from engine.ari.client import AriClient
from testbed.events import EventLog
from testbed.pair import PbxPair
from tests.e2e.other_browsers import BrowserShot, FirefoxPage, browser_shot, firefox
from tests.e2e.support import volunteer_path_by_phone

__all__ = ["browser_shot", "firefox"]  # the fixtures this module uses


async def test_a_volunteer_goes_from_sign_up_to_log_out_in_firefox(
    app_url: str,
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    firefox: FirefoxPage,
    browser_shot: BrowserShot,
) -> None:
    await volunteer_path_by_phone(firefox, app_url, engine, pbx_pair, carrier, browser_shot, 21)
