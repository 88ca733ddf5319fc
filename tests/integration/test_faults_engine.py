"""Fault injection on phonebank itself (issue 11, item 15): kill -9 of a real run (`python -m
testbed run`, what `make run` runs) mid-call and a second run started in its place. The second
run re-attaches to the PBX pair the first left running (same Asterisk PIDs) instead of
restarting it, the volunteer's phone leg survives and takes the next call, and a voter who
answered while no engine listened is counted honestly: an abandon, not a failure."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from engine.app import Engine
from engine.ari.client import AriClient
from engine.calls.lost_calls import GAP_VARIABLE
from engine.config import Config, load_config
from engine.models import Attempt, CallOutcome, CallState
from engine.pbx.instance import pid_alive, stop_pid
from engine.pbx.rootfs import existing_runtime
from engine.store.sqlite.store import SqliteStore
from testbed.pair import PbxPair, load_pair
from testbed.phones import VolunteerPhone
from testbed.shift import make_campaign, voters_csv
from tests.conftest import ari_settings, ari_with_events
from tests.helpers import wait_until
from tests.integration.runs import TESTBED_RUN, Run

# A contact first; then a live person who rings for 6 s: phonebank is killed while it rings,
# so the answer comes while no engine listens; then live people for the next call.
ROWS = [("10", 1), ("14", 6), ("10", 2), ("10", 3)]


@pytest.fixture
def setting(tmp_path: Path) -> Iterator[tuple[dict[str, str], Config]]:
    env = {
        **os.environ,
        "PHONEBANK_PBX_NAME": f"test-run-{os.getpid()}-{uuid.uuid4().hex[:6]}",
        "PHONEBANK_ENGINE_DATABASE": str(tmp_path / "run.db"),
        "PHONEBANK_WEB_PORT": "0",
        "PHONEBANK_PBX_STATE_DIR": str(tmp_path / "state"),
    }
    cfg = load_config(environ=env)
    try:
        yield env, cfg
    finally:  # whatever a run left behind: its Asterisk processes, by PID
        pair = _pair(cfg)
        if pair is not None:
            for instance in pair.instances:
                if instance.pid is not None and pid_alive(instance.pid):
                    stop_pid(instance.pid, 10)
            shutil.rmtree(pair.run_dir, ignore_errors=True)


def _pair(cfg: Config) -> PbxPair | None:
    runtime = existing_runtime(cfg.pbx)
    return None if runtime is None else load_pair(cfg.pbx, runtime, cfg.pbx.name)


@contextlib.asynccontextmanager
async def api(url: str, token: str) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(url, headers=headers) as session:
        yield session


async def _state(http: aiohttp.ClientSession) -> str:
    async with http.get("/api/session") as response:
        view: dict[str, Any] = await response.json()
        return str(view["state"])


async def _post(http: aiohttp.ClientSession, path: str, body: Any = None) -> None:
    async with http.post(path, json=body) as response:
        assert response.status in (200, 202), await response.text()


async def _wait_state(http: aiohttp.ClientSession, state: str, timeout: float = 30) -> None:
    async def reached() -> bool:
        return await _state(http) == state

    await wait_until(reached, timeout, f"the session to be {state}", 0.2)


async def _prepare(cfg: Config) -> tuple[str, str]:
    """The campaign, its voters and a signed-in volunteer, before phonebank runs: (token, PIN)."""
    async with Engine.running(cfg) as engine:
        campaign = await make_campaign(engine, voters_csv(ROWS), ring_seconds=20)
        signup = await engine.volunteers.sign_up("Ada", "ada@example.org", "+12025550100")
        signin = await engine.volunteers.sign_in(
            signup.login_id, signup.password, campaign.id, "phone", "test"
        )
    return signin.token, signin.pin


async def test_a_killed_phonebank_run_is_replaced_without_dropping_the_pbx(
    setting: tuple[dict[str, str], Config], tmp_path: Path
) -> None:
    env, cfg = setting
    token, pin = await _prepare(cfg)
    first = Run(TESTBED_RUN, env, tmp_path / "run1.log")
    second: Run | None = None
    store = SqliteStore.open(cfg.engine.database)
    try:
        url = await first.url()
        pair = _pair(cfg)
        assert pair is not None
        pids = [i.pid for i in pair.instances]
        async with ari_with_events(pair.carrier) as carrier, api(url, token) as http:
            phone = await VolunteerPhone.call_in(pair, *carrier)
            await phone.send_dtmf(pin)
            await _wait_state(http, "connected", 20)
            await _post(http, "/api/session/ready")
            await _wait_state(http, "talking")
            await _post(http, "/api/session/end-call")
            await _wait_state(http, "wrap-up")
            await _post(http, "/api/session/result", {"term_code": "talked", "then": "ready"})

            async with AriClient.connect(ari_settings(pair.dialer, app="")) as dialer:

                async def ringing() -> Attempt | None:
                    """The next call, once the PBX has its channel: the engine stores the
                    channel id just before it asks the PBX to originate, and a kill between
                    the two leaves nothing ringing (recovery then gives the voter back)."""
                    attempts = await store.list_attempts(1)
                    calls = [a for a in attempts if a.state == CallState.DIALING and a.channel_id]
                    if not calls:
                        return None
                    channels = {c["id"] for c in await dialer.list_channels()}
                    return calls[0] if calls[0].channel_id in channels else None

                call = await wait_until(ringing, 15, "the next call to ring")
                first.kill()

                # The voter answers while no engine listens: the dialplan keeps the verdict.
                name = GAP_VARIABLE.format(channel_id=call.channel_id)
                verdict = await wait_until(
                    lambda: dialer.get_global_variable(name), 30, "the answer in the gap"
                )
            assert verdict.startswith("HUMAN")

            second = Run(TESTBED_RUN, env, tmp_path / "run2.log")
            url = await second.url()
            again = _pair(cfg)
            assert again is not None and [i.pid for i in again.instances] == pids, (
                "the PBX pair was restarted instead of re-attached"
            )
            assert "re-attached" in second.log.read_text()
            attempt = await store.get_attempt(call.id)
            assert attempt.outcome == CallOutcome.ABANDONED and attempt.amd_verdict == "HUMAN"
            async with api(url, token) as http2:
                await _wait_state(http2, "talking", 30)
            assert not [
                e for e in carrier[1].of_channel(phone.channel_id) if e["type"] == "StasisEnd"
            ], "the volunteer's phone leg was dropped"
            results = [r async for r in store.results(1)]
            assert len(results) == 1, "the saved result was lost"
    finally:
        for run in (first, second):
            if run is not None:
                await asyncio.to_thread(run.stop)
        await store.close()
