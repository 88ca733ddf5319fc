"""Single-call situations on the real PBX pair: audio through the engine's bridge, the wrap-up
deadline, abandoned calls, a volunteer's phone dropping, wrong PINs, an engine restart."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from engine.app import Engine
from engine.ari.client import AriClient
from engine.models import AfterResult, Attempt, CallOutcome, CallState, SessionState
from testbed.audio import rms_dbfs, wav_finished
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.phones import VolunteerPhone
from testbed.shift import SimVolunteer, make_campaign, running_engine, voters_csv
from tests.helpers import wait_until


@contextlib.asynccontextmanager
async def recording_voters(carrier: tuple[AriClient, EventLog]) -> AsyncIterator[None]:
    await carrier[0].set_global_variable("RECORD_VOTERS", "1")
    try:
        yield
    finally:
        await carrier[0].set_global_variable("RECORD_VOTERS", "0")


async def one_volunteer(
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    rows: list[tuple[str, int]],
    **settings: Any,
) -> SimVolunteer:
    campaign = await make_campaign(engine, voters_csv(rows), **settings)
    volunteer = await SimVolunteer.sign_in(engine, campaign, 1)
    await volunteer.call_in(pbx_pair, carrier)
    await engine.volunteers.start_calling(volunteer.session.id)
    return volunteer


async def heard_level(pbx_pair: PbxPair, number: str) -> float:
    """Level of what the carrier recorded the voter at ``number`` hearing (after hangup)."""
    digits = number.lstrip("+")
    folder = pbx_pair.carrier.path("recordings")
    started = time.time() - 120  # earlier tests may have recorded the same number

    def newest() -> Path | None:
        found = [p for p in folder.glob(f"{digits}-*-heard.wav") if p.stat().st_mtime > started]
        return max(found, key=lambda p: p.stat().st_mtime, default=None)

    path = await wait_until(newest, what=f"the recording of {number}")
    # Not "the size stopped changing": MixMonitor's writes reach the disk in bursts, and a
    # file measured before it is closed has no data length in its header.
    await wait_until(lambda: wav_finished(path), what="the recording to be closed")
    return rms_dbfs(path)


async def test_voter_and_volunteer_hear_each_other_through_the_engine(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    async with recording_voters(carrier):
        volunteer = await one_volunteer(engine, pbx_pair, carrier, [("10", 1)])
        session = await volunteer.wait_state(SessionState.TALKING, timeout=30)
        assert volunteer.phone is not None
        recording = await volunteer.phone.start_recording()
        await volunteer.phone.say(1)
        heard_by_volunteer = rms_dbfs(await volunteer.phone.stop_recording(recording))
        assert session.attempt_id is not None
        attempt = await engine.store.get_attempt(session.attempt_id)
        await engine.volunteers.end_call(session.id)
        await volunteer.wait_state(SessionState.WRAP_UP)
        heard_by_voter = await heard_level(pbx_pair, attempt.phone)
    assert heard_by_volunteer > -40, "the volunteer did not hear the voter"
    assert heard_by_voter > -40, "the voter did not hear the volunteer"


async def test_missing_the_wrapup_deadline_logs_out_and_hangs_up_the_phone_when_set(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    """With the campaign's logout_after_missed_wrapups (here 1); without it the volunteer is
    only paused (tests/e2e/test_wrapup_deadline.py)."""
    volunteer = await one_volunteer(
        engine, pbx_pair, carrier, [("13", 2)], wrapup_seconds=3, logout_after_missed_wrapups=1
    )
    await volunteer.wait_state(SessionState.TALKING, timeout=30)
    # The voter hangs up after ~10 s of talk; nobody enters a result.
    await volunteer.wait_state(SessionState.WRAP_UP, timeout=30)
    session = await volunteer.wait_state(SessionState.LOGGED_OUT, timeout=10)
    assert session.end_reason == "timeout"
    assert volunteer.phone is not None
    await volunteer.phone.wait_hung_up(timeout=20)
    assert session.attempt_id is not None
    attempt = await engine.store.get_attempt(session.attempt_id)
    assert attempt.outcome == CallOutcome.CONTACT
    assert await engine.store.result_for_attempt(attempt.id) is None


async def test_a_live_voter_with_no_volunteer_free_hears_the_abandon_message(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    async with recording_voters(carrier):
        volunteer = await one_volunteer(
            engine, pbx_pair, carrier, [("10", 3), ("10", 4)], lines_per_volunteer=2
        )
        await volunteer.wait_state(SessionState.TALKING, timeout=30)
        attempts = await wait_until(
            lambda: _ended_abandoned(engine, volunteer),
            timeout=30,
            what="the second voter to be abandoned",
        )
        level = await heard_level(pbx_pair, attempts[0].phone)
        await engine.volunteers.end_call(volunteer.session.id)
        await volunteer.wait_state(SessionState.WRAP_UP)
    assert level > -40, "the abandoned voter heard no message"
    stats = await engine.operators.stats(volunteer.session.campaign_id)
    assert stats["abandon_rate_today"] == 50.0


async def _ended_abandoned(engine: Engine, volunteer: SimVolunteer) -> list[Attempt]:
    attempts = await engine.store.list_attempts(volunteer.session.campaign_id)
    return [a for a in attempts if a.outcome == CallOutcome.ABANDONED]


async def test_a_dropped_phone_ends_the_call_and_the_volunteer_can_call_back(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    volunteer = await one_volunteer(engine, pbx_pair, carrier, [("10", 5), ("10", 6)])
    session = await volunteer.wait_state(SessionState.TALKING, timeout=30)
    assert volunteer.phone is not None
    await volunteer.phone.hangup()
    session = await volunteer.wait_state(SessionState.WRAP_UP)
    attempt = await wait_until(lambda: _ended(engine, session.attempt_id), what="call end")
    assert attempt.outcome == CallOutcome.CONTACT
    assert engine.telephony is not None
    assert not engine.telephony.calls.by_channel
    # Calling back in with the same PIN resumes the session, still owing a result.
    volunteer.phone = await VolunteerPhone.call_in(pbx_pair, *carrier)
    await volunteer.phone.send_dtmf(session.pin)
    await wait_until(lambda: _phone_back(engine, session.id), what="the phone to rejoin")
    await engine.volunteers.submit_result(session.id, "talked", {}, "", then=AfterResult.READY)
    await volunteer.wait_state(SessionState.TALKING, timeout=30)


async def _ended(engine: Engine, attempt_id: int | None) -> Attempt | None:
    assert attempt_id is not None
    attempt = await engine.store.get_attempt(attempt_id)
    return attempt if attempt.ended_at else None


async def _phone_back(engine: Engine, session_id: int) -> bool:
    session = await engine.store.get_session(session_id)
    return bool(session.channel_id) and session.state == SessionState.WRAP_UP


async def test_three_wrong_pins_hang_up_and_an_ended_sessions_pin_is_refused(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    campaign = await make_campaign(engine, voters_csv([("90", 1)]))
    volunteer = await SimVolunteer.sign_in(engine, campaign, 1)
    await engine.volunteers.log_out(volunteer.session.id)
    phone = await VolunteerPhone.call_in(pbx_pair, *carrier)
    for _ in range(3):
        await phone.send_dtmf(volunteer.session.pin)  # the PIN of an ended session
        await asyncio.sleep(0.5)  # let the "invalid PIN" prompt start before typing again
    await phone.wait_hung_up(timeout=20)
    assert (await engine.store.get_session(volunteer.session.id)).channel_id is None


async def test_an_engine_restart_mid_call_keeps_the_call_and_the_volunteer(
    pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog], tmp_path: Path
) -> None:
    database = tmp_path / "restart.db"
    async with running_engine(pbx_pair, database) as first:
        volunteer = await one_volunteer(first, pbx_pair, carrier, [("10", 7), ("10", 8)])
        session = await volunteer.wait_state(SessionState.TALKING, timeout=30)
    async with running_engine(pbx_pair, database) as second:
        # The conversation outlived the engine: the new one carries on with it.
        assert session.attempt_id is not None
        attempt = await second.store.get_attempt(session.attempt_id)
        assert attempt.ended_at is None and attempt.state == CallState.CONNECTED
        session = await second.store.get_session(session.id)
        assert session.state == SessionState.TALKING and session.channel_id
        await second.volunteers.end_call(session.id)
        volunteer.engine = second
        session = await volunteer.wait_state(SessionState.WRAP_UP)
        attempt = await wait_until(lambda: _ended(second, attempt.id), what="the call to end")
        assert attempt.outcome == CallOutcome.CONTACT
        await second.volunteers.submit_result(session.id, "talked", {}, "", then=AfterResult.READY)
        volunteer.engine = second
        session = await volunteer.wait_state(SessionState.TALKING, timeout=30)
        assert session.attempt_id != attempt.id
        attempts = await second.store.list_attempts(session.campaign_id)
        assert len({a.voter_id for a in attempts}) == len(attempts) == 2


async def test_a_machine_gets_the_campaigns_voicemail_message_after_the_beep(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    async with recording_voters(carrier):
        volunteer = await one_volunteer(
            engine,
            pbx_pair,
            carrier,
            [("20", 3)],
            voicemail_message="Hi, this is the campaign. Please remember to vote. Thank you.",
        )
        attempt = await wait_until(
            lambda: _ended_one(engine, volunteer), timeout=60, what="the machine call to end"
        )
        level = await heard_level(pbx_pair, attempt.phone)
    assert attempt.outcome == CallOutcome.VOICEMAIL_LEFT
    assert attempt.amd_verdict == "MACHINE"
    assert level > -40, "the answering machine recorded no message"


async def _ended_one(engine: Engine, volunteer: SimVolunteer) -> Attempt | None:
    attempts = await engine.store.list_attempts(volunteer.session.campaign_id)
    return attempts[0] if attempts and attempts[0].ended_at else None


async def test_hold_music_plays_while_waiting_and_stops_for_the_voter(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    # Voice 0 says "Hello?" and then waits 4 s for the caller: the call's quiet moment.
    campaign = await make_campaign(engine, voters_csv([("10", 0)]), hold_music=True)
    volunteer = await SimVolunteer.sign_in(engine, campaign, 1)
    await volunteer.call_in(pbx_pair, carrier)
    assert volunteer.phone is not None
    waiting = await volunteer.phone.start_recording()
    await asyncio.sleep(2.0)  # two seconds of waiting for a call
    music = rms_dbfs(await volunteer.phone.stop_recording(waiting))
    await engine.volunteers.start_calling(volunteer.session.id)
    await volunteer.wait_state(SessionState.TALKING, timeout=30)
    await asyncio.sleep(0.5)  # the beep
    talking = await volunteer.phone.start_recording()
    await asyncio.sleep(2.0)  # two seconds while the voter waits for the volunteer to speak
    silence = rms_dbfs(await volunteer.phone.stop_recording(talking))
    assert music > -45, "no hold music while waiting"
    assert silence < -50, "hold music went on during the call"
