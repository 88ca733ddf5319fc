"""A configured SIP carrier ([trunk]) replaces the simulator as the outbound route.

No real carrier is reachable here, so the carrier simulator plays one: the dialer PBX gets an
endpoint 'trunk' pointing at the simulator's SIP port, exactly as it would for a carrier's
host, and the engine dials through it."""

from __future__ import annotations

import dataclasses
import os
import re
import socket
from pathlib import Path

from engine.ari.client import AriClient
from engine.config import Config, TrunkConfig, load_config, outbound_trunk
from engine.models import CallOutcome, SessionState
from engine.pbx.ports import pick_port
from testbed.events import EventLog
from testbed.pair import running_pair
from testbed.shift import SimVolunteer, make_campaign, running_engine, voters_csv
from tests.conftest import ari_settings
from tests.integration.runs import (
    PHONEBANK_RUN,
    Run,
    asterisk_processes_under,
    recorded_run,
    run_env,
    stop_left_behind,
)


def test_outbound_trunk_is_the_simulator_unless_a_carrier_is_configured() -> None:
    cfg = load_config(environ={})
    assert outbound_trunk(cfg) == "carrier"
    real = dataclasses.replace(cfg, trunk=TrunkConfig(host="sip.example.net"))
    assert outbound_trunk(real) == "trunk"


async def test_calls_go_through_a_configured_carrier_trunk(tmp_path: Path) -> None:
    carrier_port = pick_port(socket.SOCK_DGRAM)
    cfg: Config = load_config()
    pbx = dataclasses.replace(cfg.pbx, carrier_sip_port=carrier_port)
    trunk = TrunkConfig(host="127.0.0.1", port=carrier_port, username="acct", password="pw")
    with running_pair(pbx, f"test-trunk-{os.getpid()}", real_trunk=trunk) as pair:
        assert "trunk" in pair.dialer.cli("pjsip show endpoints")
        async with (
            AriClient.connect(ari_settings(pair.carrier)) as carrier_ari,
            EventLog.running(carrier_ari) as carrier_events,
            running_engine(pair, tmp_path / "trunk.db", trunk=trunk) as engine,
        ):
            assert engine.telephony is not None and engine.telephony.trunk == "trunk"
            campaign = await make_campaign(engine, voters_csv([("10", 2)]))
            volunteer = await SimVolunteer.sign_in(engine, campaign, 1)
            await volunteer.call_in(pair, (carrier_ari, carrier_events))
            await engine.volunteers.start_calling(volunteer.session.id)
            session = await volunteer.wait_state(SessionState.TALKING, timeout=30)
            await engine.volunteers.end_call(session.id)
            await volunteer.wait_state(SessionState.WRAP_UP)
            assert session.attempt_id is not None
            attempt = await engine.store.get_attempt(session.attempt_id)
            assert attempt.outcome == CallOutcome.CONTACT


async def test_phonebank_run_with_a_real_trunk_starts_no_carrier_simulator(tmp_path: Path) -> None:
    """Production: `phonebank run` with a [trunk] starts the dialer PBX alone; its calls go to
    the carrier (here nobody answers at that address), never to a simulator."""
    carrier_port = pick_port(socket.SOCK_DGRAM)
    env = run_env(
        tmp_path, "real", PHONEBANK_TRUNK_HOST="127.0.0.1", PHONEBANK_TRUNK_PORT=str(carrier_port)
    )
    cfg = load_config(environ=env)
    run = Run(PHONEBANK_RUN, env, tmp_path / "run.log")
    try:
        url = await run.url()
        printed = run.log.read_text()
        assert f"operator pages at {url}/operator " in printed
        assert re.search(r"`\S*phonebank operator add NAME`", printed), printed
        pbx = recorded_run(cfg)
        assert pbx is not None
        assert [i.spec.name for i in pbx.instances] == ["dialer"]
        assert pbx.dialer.pid is not None and pbx.dialer.healthy()
        endpoints = pbx.dialer.cli("pjsip show endpoints")
        assert re.search(r"Endpoint:\s+trunk\b", endpoints), endpoints
        assert not re.search(r"Endpoint:\s+carrier\b", endpoints), endpoints
        assert asterisk_processes_under(f"{cfg.pbx.name}/carrier") == []
    finally:
        run.stop()
        stop_left_behind(cfg)
    assert run.proc.returncode == 0, run.log.read_text()[-3000:]
