"""Helpers for the fault-injection tests: a PBX pair of the test's own (never the shared
`pbx_pair`, which other tests use), supervised like `phonebank run` supervises its pair, and
checks that no voter was charged for our failure."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import uuid
from collections.abc import AsyncIterator

from engine.app import Engine
from engine.ari.client import AriClient
from engine.config import load_config
from engine.models import Attempt, CallOutcome, SessionState
from engine.pbx.supervisor import PbxSupervisor
from testbed.events import EventLog
from testbed.pair import PbxPair, start_pair
from testbed.phones import VolunteerPhone
from testbed.shift import SimVolunteer
from tests.helpers import wait_until


@contextlib.asynccontextmanager
async def own_pair(name: str) -> AsyncIterator[PbxPair]:
    """A fresh pair for one test; every process it ran is stopped by PID on exit (a frozen
    one is woken first so it can stop)."""
    tag = f"test-{name}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    pair = await asyncio.to_thread(start_pair, load_config().pbx, tag)
    try:
        yield pair
    finally:
        for instance in pair.instances:
            if instance.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(instance.pid, signal.SIGCONT)
        await asyncio.to_thread(pair.stop)
        shutil.rmtree(pair.run_dir, ignore_errors=True)


@contextlib.asynccontextmanager
async def supervised(pair: PbxPair, watchdog_seconds: float = 30.0) -> AsyncIterator[PbxSupervisor]:
    supervisor = PbxSupervisor(pair, 30.0, watchdog_seconds=watchdog_seconds)
    task = asyncio.create_task(supervisor.run(), name="test-supervisor")
    try:
        yield supervisor
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def call_back_in(
    volunteer: SimVolunteer, pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    """The volunteer's phone leg is gone: call in again with the PIN and take calls.

    A restarted dialer PBX is refused by the carrier until its next OPTIONS qualify finds it
    (up to ~5 s): like a volunteer redialing, wait for the network to reach it first."""
    await wait_until(lambda: _reachable(carrier[0]), 30, "the carrier to reach the dialer PBX")
    volunteer.phone = await VolunteerPhone.call_in(pair, *carrier)
    await volunteer.phone.send_dtmf(volunteer.session.pin)
    session = await volunteer.wait_state(
        SessionState.CONNECTED, SessionState.READY, SessionState.TALKING, timeout=20
    )
    if session.state == SessionState.CONNECTED:
        await volunteer.engine.volunteers.start_calling(session.id)


async def uncharged_problems(engine: Engine, attempts: list[Attempt]) -> list[str]:
    """What is wrong with how these attempts (open when we failed) were settled: none may be
    'failed', and one ended with no outcome must have left its voter callable at once."""
    problems = []
    for old in attempts:
        attempt = await engine.store.get_attempt(old.id)
        voter = await engine.store.get_voter(attempt.voter_id)
        if attempt.outcome == CallOutcome.FAILED:
            problems.append(f"attempt {attempt.id} charged 'failed'")
        if attempt.ended_at and attempt.outcome is None and voter.next_attempt_at is not None:
            problems.append(f"voter {voter.id} pushed back to {voter.next_attempt_at}")
    return problems


async def _reachable(carrier_ari: AriClient) -> bool:
    endpoint = await carrier_ari.get_endpoint("PJSIP", "dialer")
    return bool(endpoint.get("state") == "online")
