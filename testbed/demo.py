"""`python -m testbed demo` (or `run --demo`): a sample campaign worked by simulated volunteers.

Loads data/demo_* (a 40-voter list of the carrier simulator's numbers, a script and a survey)
and signs in two simulated volunteers whose phones are played by the carrier simulator: they
call in with their PINs, take calls, talk a few seconds, and enter results. A newcomer sees
calls flow in the log, the API (/api/operator/campaigns/{id}/stats) and, later, the dashboard.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from pathlib import Path

from engine.app import Engine
from engine.ari.client import AriClient, AriSettings
from engine.models import AfterResult, Campaign, SessionState
from engine.notifier import drain
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.phones import VolunteerPhone

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parents[1] / "data"
DEMO_NAME = "Demo: Neighbors for a Better Town"
VOLUNTEERS = 2


async def load_demo(engine: Engine, pair: PbxPair, url: str) -> None:
    """Create (or reuse) the demo campaign and work it with simulated volunteers."""
    campaign = await demo_campaign(engine)
    spec = pair.carrier.spec
    settings = AriSettings(spec.ari_url, spec.ari_user, spec.ari_password, spec.ari_app)
    async with AriClient.connect(settings) as ari, EventLog.running(ari) as events:
        await work_demo(engine, pair, ari, events, campaign)


async def work_demo(
    engine: Engine, pair: PbxPair, ari: AriClient, events: EventLog, campaign: Campaign
) -> None:
    """Sign in the simulated volunteers, whose phones ``ari`` (the carrier simulator's) plays,
    and work ``campaign`` until cancelled or every volunteer is logged out."""
    await asyncio.gather(
        *(_volunteer(engine, pair, ari, events, campaign, n) for n in range(1, VOLUNTEERS + 1))
    )


async def demo_campaign(engine: Engine) -> Campaign:
    found = await engine.store.campaign_by_name(DEMO_NAME)
    if found is not None:
        return found
    campaign = await engine.operators.create_campaign(
        "demo",
        DEMO_NAME,
        script=(DATA / "demo_script.j2").read_text(),
        survey=json.loads((DATA / "demo_survey.json").read_text()),
        calling_hours_start="00:00",
        calling_hours_end="24:00",
        ring_seconds=15,
        dial_mode="predictive",
        max_lines_per_volunteer=4,
        voicemail_message="Hi, this is a volunteer with Neighbors for a Better Town. "
        "Please remember to vote on November third. Thank you!",
    )
    summary = await engine.operators.import_list("demo", campaign.id, DATA / "demo_voters.csv")
    log.info("demo: campaign %d '%s' with %d voters", campaign.id, DEMO_NAME, summary.imported)
    return campaign


async def _volunteer(
    engine: Engine, pair: PbxPair, ari: AriClient, events: EventLog, campaign: Campaign, n: int
) -> None:
    signup = await engine.volunteers.sign_up(
        f"Demo Volunteer {n}", f"demo{n}-{uuid.uuid4().hex[:4]}@example.org", "+12025550100"
    )
    signin = await engine.volunteers.sign_in(
        signup.login_id, signup.password, campaign.id, "phone", f"demo-{n}"
    )
    session_id = signin.session.id
    with engine.notifier.session_events(session_id) as queue:
        phone = await VolunteerPhone.call_in(pair, ari, events)
        await asyncio.sleep(1.0)  # let the PIN prompt start, as a person would
        await phone.send_dtmf(signin.pin)
        log.info("demo: volunteer %d called in with PIN %s", n, signin.pin)
        async for event in drain(queue):
            if event["type"] == "session" and not await _act(
                engine, phone, session_id, SessionState(event["state"])
            ):
                return


async def _act(engine: Engine, phone: VolunteerPhone, session_id: int, state: SessionState) -> bool:
    """What a (simulated) volunteer does on entering ``state``; False once logged out."""
    if state == SessionState.CONNECTED:
        await engine.volunteers.start_calling(session_id)
    elif state == SessionState.TALKING:
        await phone.say(0, wait=False)
        await asyncio.sleep(random.uniform(4, 8))  # the conversation
        if (await engine.store.get_session(session_id)).state == SessionState.TALKING:
            await engine.volunteers.end_call(session_id)
    elif state == SessionState.WRAP_UP:
        await asyncio.sleep(random.uniform(1, 3))  # typing the result
        answers = {"plan": random.choice(["yes", "maybe", "no"])}
        await engine.volunteers.submit_result(
            session_id, "talked", answers, "", then=AfterResult.READY
        )
    return state != SessionState.LOGGED_OUT
