"""Fault injection on the dialer PBX (issue 11, item 12): kill -9 and SIGSTOP of a real
Asterisk mid-shift, on a PBX pair of the test's own. Nothing is dialed into the dead PBX, no
voter is charged for our failure, Asterisk is restarted, and the volunteer is back taking
calls within 30 s."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from engine.app import Engine
from engine.calls.outbound import LiveCall
from engine.models import AfterResult, CallState, SessionState
from testbed.shift import SimVolunteer, make_campaign, running_engine, voters_csv
from tests.conftest import ari_with_events
from tests.helpers import wait_until
from tests.integration.fault_helpers import (
    call_back_in,
    own_pair,
    supervised,
    uncharged_problems,
)

# A contact first (so a saved result exists), then live people who ring for 6 s before they
# answer: the PBX fails while one of them rings.
ROWS = [("10", 1), ("14", 6), ("14", 7), ("10", 2), ("10", 3)]


async def _ringing(engine: Engine) -> list[LiveCall]:
    assert engine.telephony is not None
    calls = engine.telephony.calls.by_channel.values()
    return [c for c in calls if c.state == CallState.DIALING and not c.answered]


async def _first_contact_saved(engine: Engine, volunteer: SimVolunteer) -> int:
    await engine.volunteers.start_calling(volunteer.session.id)
    talking = await volunteer.wait_state(SessionState.TALKING, timeout=30)
    await engine.volunteers.end_call(talking.id)
    await volunteer.wait_state(SessionState.WRAP_UP)
    await engine.volunteers.submit_result(
        talking.id, "talked", {}, "saved before", then=AfterResult.READY
    )
    assert talking.attempt_id is not None
    return talking.attempt_id


async def test_a_killed_dialer_pbx_is_restarted_and_no_voter_is_charged_for_it(
    tmp_path: Path,
) -> None:
    async with (
        own_pair("kill") as pair,
        ari_with_events(pair.carrier) as carrier,
        supervised(pair) as supervisor,
        running_engine(pair, tmp_path / "kill.db") as engine,
    ):
        tel = engine.telephony
        assert tel is not None
        campaign = await make_campaign(engine, voters_csv(ROWS), ring_seconds=20)
        volunteer = await SimVolunteer.sign_in(engine, campaign, 1)
        await volunteer.call_in(pair, carrier)
        saved = await _first_contact_saved(engine, volunteer)
        await wait_until(lambda: _ringing(engine), 15, "the next call to ring")
        in_flight = await engine.store.open_attempts()
        old_pid = pair.dialer.pid
        assert old_pid is not None
        os.kill(old_pid, signal.SIGKILL)
        killed_at = time.monotonic()

        await wait_until(lambda: not tel.gate.open, 5, "dialing to be held")
        claimed_during_outage = len(await engine.store.list_attempts(campaign.id))
        await wait_until(lambda: supervisor.restarts == 1, 20, "the dialer PBX to be restarted")
        assert pair.dialer.pid not in (None, old_pid)
        await wait_until(lambda: tel.gate.open, 20, "dialing to resume")
        back_at = time.monotonic()
        assert back_at - killed_at < 15, "the PBX took too long to come back"
        assert len(await engine.store.list_attempts(campaign.id)) == claimed_during_outage, (
            "voters were claimed while the PBX was down"
        )
        assert not await uncharged_problems(engine, in_flight)

        # The volunteer's phone leg died with Asterisk: the page says to call back in.
        await volunteer.wait_state(SessionState.PHONE_DISCONNECTED, timeout=10)
        await call_back_in(volunteer, pair, carrier)
        await volunteer.wait_state(SessionState.TALKING, timeout=30 - (time.monotonic() - back_at))
        assert not await uncharged_problems(engine, in_flight)
        assert await engine.store.result_for_attempt(saved) is not None, "a saved result was lost"


async def test_no_call_is_placed_into_a_dead_pbx_and_a_result_saved_meanwhile_is_kept(
    tmp_path: Path,
) -> None:
    """The volunteer saves a result and is ready while Asterisk is dead: the dialer must not
    claim voter after voter into the dead PBX (183 'failed' in 9.5 s before the fix)."""
    async with (
        own_pair("storm") as pair,
        ari_with_events(pair.carrier) as carrier,
        supervised(pair) as supervisor,
        running_engine(pair, tmp_path / "storm.db") as engine,
    ):
        tel = engine.telephony
        assert tel is not None
        campaign = await make_campaign(engine, voters_csv(ROWS * 4), ring_seconds=20)
        volunteer = await SimVolunteer.sign_in(engine, campaign, 1)
        await volunteer.call_in(pair, carrier)
        await engine.volunteers.start_calling(volunteer.session.id)
        talking = await volunteer.wait_state(SessionState.TALKING, timeout=30)
        await engine.volunteers.end_call(talking.id)
        await volunteer.wait_state(SessionState.WRAP_UP)
        assert pair.dialer.pid is not None
        os.kill(pair.dialer.pid, signal.SIGKILL)
        await wait_until(lambda: not tel.gate.open, 5, "dialing to be held")
        await engine.volunteers.submit_result(
            talking.id, "talked", {}, "saved", then=AfterResult.READY
        )
        await wait_until(lambda: tel.gate.open, 20, "dialing to resume")
        back_at = time.monotonic()
        attempts = await engine.store.list_attempts(campaign.id)
        assert len(attempts) == 1, f"{len(attempts) - 1} voter(s) claimed into the dead PBX"
        # The engine's ARI socket may reconnect (and dialing resume) a moment before the
        # supervisor's start() returns from its own wait for ARI and counts the restart.
        await wait_until(lambda: supervisor.restarts == 1, 10, "the restart to be counted")
        await volunteer.wait_state(SessionState.PHONE_DISCONNECTED, timeout=10)
        await call_back_in(volunteer, pair, carrier)
        await volunteer.wait_state(SessionState.TALKING, timeout=30 - (time.monotonic() - back_at))
        assert talking.attempt_id is not None
        assert await engine.store.result_for_attempt(talking.attempt_id) is not None


async def test_a_frozen_dialer_pbx_holds_dialing_and_nobody_is_charged(tmp_path: Path) -> None:
    async with (
        own_pair("freeze") as pair,
        ari_with_events(pair.carrier) as carrier,
        supervised(pair) as supervisor,
        running_engine(pair, tmp_path / "freeze.db") as engine,
    ):
        tel = engine.telephony
        assert tel is not None
        campaign = await make_campaign(engine, voters_csv(ROWS[1:]), ring_seconds=20)
        volunteer = await SimVolunteer.sign_in(engine, campaign, 1)
        await volunteer.call_in(pair, carrier)
        await engine.volunteers.start_calling(volunteer.session.id)
        await wait_until(lambda: _ringing(engine), 15, "a call to ring")
        in_flight = await engine.store.open_attempts()
        pid = pair.dialer.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            # The engine notices a frozen Asterisk by its silence (websocket pings).
            await wait_until(lambda: not tel.gate.open, 15, "dialing to be held while frozen")
        finally:
            os.kill(pid, signal.SIGCONT)
        thawed_at = time.monotonic()
        await wait_until(lambda: tel.gate.open, 20, "dialing to resume after the freeze")
        assert supervisor.restarts == 0 and pair.dialer.pid == pid, "a live Asterisk was restarted"
        session = await volunteer.wait_state(
            SessionState.TALKING, timeout=30 - (time.monotonic() - thawed_at)
        )
        assert session.channel_id == volunteer.session.channel_id
        assert not await uncharged_problems(engine, in_flight)
