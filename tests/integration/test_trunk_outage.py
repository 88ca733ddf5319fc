"""The carrier goes silent (issue 11, item 14): with its Asterisk stopped (SIGSTOP) every
INVITE goes unanswered. The trunk fails its SIP OPTIONS, the engine holds dialing (no
originate storm) and says so, calls that met the silent network are our failure (the voter's
attempt is given back, never a final "no answer"), and dialing resumes once the trunk
qualifies again (SIGCONT).

The test starts its own PBX pair: stopping the session-wide pair's carrier would stall every
other test's calls."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.ari.client import AriClient
from engine.models import Attempt, CallOutcome, SessionState, VoterStatus
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import SimVolunteer, make_campaign, running_engine, voters_csv
from tests.conftest import ari_with_events
from tests.helpers import wait_until
from tests.integration import fault_helpers

NO_ANSWER = [("31", v) for v in range(20)]
"""Numbers that ring and are never answered: only a working network says "no answer"."""


@pytest.fixture
async def own_pair() -> AsyncIterator[PbxPair]:
    """A pair of this test's own: its carrier simulator gets frozen."""
    async with fault_helpers.own_pair("trunk") as pair:
        yield pair


@pytest.fixture
async def own_carrier(own_pair: PbxPair) -> AsyncIterator[tuple[AriClient, EventLog]]:
    async with ari_with_events(own_pair.carrier) as pair:
        yield pair


async def test_silent_carrier_holds_dialing_and_charges_no_voter(
    own_pair: PbxPair, own_carrier: tuple[AriClient, EventLog], tmp_path: Path
) -> None:
    async with running_engine(own_pair, tmp_path / "trunk.db") as engine:
        tel = engine.telephony
        assert tel is not None
        campaign = await make_campaign(
            engine, voters_csv(NO_ANSWER), dial_mode="power", ring_seconds=5, max_attempts=1
        )
        volunteer = await SimVolunteer.sign_in(engine, campaign, 0)
        await volunteer.call_in(own_pair, own_carrier)
        await wait_until(lambda: tel.trunk_watch.state == "online", 20, "the trunk to qualify")
        with engine.notifier.session_events(volunteer.session.id) as events:
            await engine.volunteers.start_calling(volunteer.session.id)
            await wait_until(lambda: tel.calls.by_channel, 10, "a first call")

            assert own_pair.carrier.pid is not None
            os.kill(own_pair.carrier.pid, signal.SIGSTOP)
            silent_since = datetime.now(UTC)
            try:
                await wait_until(lambda: not tel.gate.open, 20, "dialing to be held")
                held_at = datetime.now(UTC)
                # Calls placed before the hold end at their ring timeout, unanswered.
                await wait_until(lambda: not tel.calls.by_channel, 20, "the calls in flight")
                attempts = await engine.store.list_attempts(campaign.id)
                # No originate storm: nothing was placed while dialing was held.
                assert not [a for a in attempts if a.originated_at and a.originated_at > held_at]
            finally:
                os.kill(own_pair.carrier.pid, signal.SIGCONT)

            notices = []
            while not events.empty():
                notices.append(events.get_nowait())
            paused = [e for e in notices if e.get("type") == "dialing" and e["paused"]]
            assert paused and "phone line to the carrier is down" in paused[0]["message"]

            # The silent network's calls were our failure: attempts given back, no final.
            silenced = [a for a in attempts if a.ended_at and a.ended_at > silent_since]
            assert silenced, "no call met the silent carrier"
            for attempt in silenced:
                assert attempt.outcome == CallOutcome.FAILED, attempt
                voter = await engine.store.get_voter(attempt.voter_id)
                assert voter.status == VoterStatus.RETRY and voter.attempts == 0, voter

            await wait_until(lambda: tel.gate.open, 30, "dialing to resume")
            resumed_at = datetime.now(UTC)

            async def dialing_again() -> bool:
                attempts = await engine.store.list_attempts(campaign.id)
                return any(a.originated_at and a.originated_at > resumed_at for a in attempts)

            await wait_until(dialing_again, 15, "a call after the trunk came back")
            await wait_until(
                lambda: any(
                    e.get("type") == "dialing" and not e["paused"] for e in drain_now(events)
                ),
                5,
                "volunteers to be told dialing resumed",
            )
        await engine.volunteers.log_out(volunteer.session.id)


async def test_machine_starved_of_audio_is_never_connected(
    own_pair: PbxPair, own_carrier: tuple[AriClient, EventLog], tmp_path: Path
) -> None:
    """The carrier answers, then falls silent (SIGSTOP): AMD hears no audio at all and
    gives NOTSURE/TOOLONG after 5 s, which the campaign connects as a person. The engine
    checks that audio still arrives, finds none, and hangs up: never a contact, and the
    voter's attempt is given back (the network's failure)."""
    async with running_engine(own_pair, tmp_path / "dead-air.db") as engine:
        tel = engine.telephony
        assert tel is not None
        campaign = await make_campaign(
            engine, voters_csv([("11", 0)]), dial_mode="power", ring_seconds=10, max_attempts=1
        )
        assert campaign.connect_notsure
        volunteer = await SimVolunteer.sign_in(engine, campaign, 0)
        await volunteer.call_in(own_pair, own_carrier)
        await engine.volunteers.start_calling(volunteer.session.id)
        await wait_until(
            lambda: any(c.answered for c in tel.calls.by_channel.values()), 15, "the answer"
        )
        assert own_pair.carrier.pid is not None
        os.kill(own_pair.carrier.pid, signal.SIGSTOP)
        try:

            async def ended() -> list[Attempt]:
                """The ended attempt once its voter is settled too: the engine writes the
                outcome, then settles the voter (two writes; a reader may fall between)."""
                attempts = await engine.store.list_attempts(campaign.id)
                done = [a for a in attempts if a.outcome is not None]
                voters = [await engine.store.get_voter(a.voter_id) for a in done]
                settled = all(v.status != VoterStatus.IN_FLIGHT for v in voters)
                return done if settled else []

            (attempt,) = await wait_until(ended, 20, "the starved call to end")
        finally:
            os.kill(own_pair.carrier.pid, signal.SIGCONT)
        assert attempt.outcome == CallOutcome.FAILED and not attempt.amd_verdict, attempt
        assert attempt.bridged_at is None and attempt.session_id is None
        voter = await engine.store.get_voter(attempt.voter_id)
        assert voter.status == VoterStatus.RETRY and voter.attempts == 0
        assert (await volunteer.refresh()).state == SessionState.READY
        await engine.volunteers.log_out(volunteer.session.id)


async def test_a_leg_whose_audio_stops_for_30_s_is_hung_up(
    own_pair: PbxPair, own_carrier: tuple[AriClient, EventLog], tmp_path: Path
) -> None:
    """rtp_timeout on the trunk endpoint: a carrier silent for longer than 30 s leaves no
    leg hanging on the dialer (here the volunteer's phone, which can call back in)."""
    async with running_engine(own_pair, tmp_path / "rtp.db") as engine:
        tel = engine.telephony
        assert tel is not None
        campaign = await make_campaign(engine, voters_csv([("31", 0)]))
        volunteer = await SimVolunteer.sign_in(engine, campaign, 0)
        await volunteer.call_in(own_pair, own_carrier)
        leg = (await volunteer.refresh()).channel_id
        assert leg is not None
        assert own_pair.carrier.pid is not None
        os.kill(own_pair.carrier.pid, signal.SIGSTOP)
        try:

            async def leg_gone() -> bool:
                return leg not in {c["id"] for c in await tel.ari.list_channels()}

            await wait_until(leg_gone, 40, "the dead phone leg to be hung up")
        finally:
            os.kill(own_pair.carrier.pid, signal.SIGCONT)
        session = await volunteer.wait_state(SessionState.WAITING_FOR_PHONE, timeout=10)
        assert session.channel_id is None
        await engine.volunteers.log_out(volunteer.session.id)


def drain_now(queue: asyncio.Queue[dict[str, Any]]) -> list[dict[str, Any]]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items
