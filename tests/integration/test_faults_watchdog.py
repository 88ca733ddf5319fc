"""A frozen dialer Asterisk (SIGSTOP) is killed and restarted by the supervisor's watchdog
once it has not answered ARI for `pbx.watchdog_seconds`, and the volunteer is back taking
calls: before, a frozen Asterisk stayed frozen for ever (issue 11, item 12)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from engine.config import load_config
from engine.models import SessionState
from engine.pbx.instance import pid_alive
from testbed.shift import SimVolunteer, make_campaign, running_engine, voters_csv
from tests.conftest import ari_with_events
from tests.helpers import wait_until
from tests.integration.fault_helpers import call_back_in, own_pair, supervised

WATCHDOG_S = load_config(environ={"PHONEBANK_PBX_WATCHDOG_SECONDS": "3"}).pbx.watchdog_seconds


async def test_a_frozen_dialer_pbx_is_killed_restarted_and_dialing_resumes(tmp_path: Path) -> None:
    async with (
        own_pair("watchdog") as pair,
        ari_with_events(pair.carrier) as carrier,
        supervised(pair, WATCHDOG_S) as supervisor,
        running_engine(pair, tmp_path / "watchdog.db") as engine,
    ):
        tel = engine.telephony
        assert tel is not None
        campaign = await make_campaign(engine, voters_csv([("10", 1), ("10", 2)]))
        volunteer = await SimVolunteer.sign_in(engine, campaign, 1)
        await volunteer.call_in(pair, carrier)
        frozen_pid = pair.dialer.pid
        assert frozen_pid is not None
        os.kill(frozen_pid, signal.SIGSTOP)
        await wait_until(lambda: supervisor.restarts == 1, 30, "the frozen Asterisk restarted")
        assert pair.dialer.pid not in (None, frozen_pid), "the same process is still there"
        assert not pid_alive(frozen_pid), "the frozen Asterisk was left behind"
        await wait_until(lambda: tel.gate.open, 20, "dialing to resume")
        back_at = time.monotonic()
        # the phone leg died with the frozen Asterisk
        await volunteer.wait_state(
            SessionState.PHONE_DISCONNECTED, SessionState.WAITING_FOR_PHONE, timeout=10
        )
        # the carrier marked the silent dialer unreachable: it calls in once it qualifies again
        await call_back_in(volunteer, pair, carrier)
        await volunteer.wait_state(SessionState.TALKING, timeout=30 - (time.monotonic() - back_at))
        assert supervisor.restarts == 1
