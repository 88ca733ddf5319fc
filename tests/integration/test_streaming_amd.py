"""The engine's own streaming answering-machine detector (amd.engine = streaming) on the PBX
pair: the voter's audio reaches the engine through a snoop + externalMedia tap, the detector's
verdict drives the same paths as AMD()'s, and no tap is left on the dialer PBX."""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.app import Engine
from engine.ari.client import AriClient
from engine.calls.listening import TAP_PREFIX
from engine.models import Attempt, CallOutcome, SessionState
from testbed.audio import rms_dbfs
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import SimVolunteer, make_campaign, running_engine, voters_csv
from tests.conftest import ari_settings, ari_with_events
from tests.helpers import wait_until
from tests.integration.fault_helpers import own_pair, supervised


@contextlib.asynccontextmanager
async def dialer_rest(pbx_pair: PbxPair) -> AsyncIterator[AriClient]:
    """REST only on the dialer PBX (no Stasis app: the engine is app 'phonebank')."""
    async with AriClient.connect(ari_settings(pbx_pair.dialer, app="")) as ari:
        yield ari


async def taps_left(ari: AriClient) -> list[str]:
    channels = [c["id"] for c in await ari.list_channels()]
    bridges = [b["id"] for b in await ari.list_bridges()]
    return [i for i in channels + bridges if str(i).startswith(TAP_PREFIX)]


async def no_taps_left(pbx_pair: PbxPair) -> None:
    async with dialer_rest(pbx_pair) as ari:
        await wait_until(
            lambda: _none(taps_left(ari)), timeout=5, what="every tap removed from the dialer"
        )


async def _none(found: Any) -> bool:
    return not await found


async def streaming_volunteer(
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    rows: list[tuple[str, int]],
    **settings: Any,
) -> SimVolunteer:
    csv = voters_csv(rows)
    campaign = await make_campaign(engine, csv, amd_engine="streaming", **settings)
    volunteer = await SimVolunteer.sign_in(engine, campaign, 1)
    await volunteer.call_in(pbx_pair, carrier)
    await engine.volunteers.start_calling(volunteer.session.id)
    return volunteer


async def ended_attempt(engine: Engine, campaign_id: int) -> Attempt | None:
    attempts = await engine.store.list_attempts(campaign_id)
    return next((a for a in attempts if a.outcome is not None), None)


async def test_a_person_is_called_human_by_the_streaming_detector_and_bridged(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    volunteer = await streaming_volunteer(engine, pbx_pair, carrier, [("10", 1)])
    session = await volunteer.wait_state(SessionState.TALKING, timeout=30)
    assert session.attempt_id is not None
    attempt = await engine.store.get_attempt(session.attempt_id)
    assert attempt.amd_verdict == "HUMAN", attempt.amd_cause
    assert re.fullmatch(r"(SHORT)?GREETING-\d+", attempt.amd_cause), attempt.amd_cause
    assert attempt.answered_at and attempt.amd_at and attempt.bridged_at
    to_verdict = (attempt.amd_at - attempt.answered_at).total_seconds()
    to_bridge = (attempt.bridged_at - attempt.answered_at).total_seconds()
    print(f"answer → HUMAN {to_verdict:.3f} s, answer → bridged {to_bridge:.3f} s")
    assert 0 < to_verdict < 2.0
    assert to_verdict <= to_bridge < to_verdict + 0.5
    # The tap's timing: its segments run in order and add up to answer → bridged.
    assert engine.telephony is not None and engine.telephony.calls.streaming.listening
    listening = engine.telephony.calls.streaming.listening
    timing = listening.timings[attempt.channel_id or ""]
    segments = timing.segments(
        attempt.answered_at.timestamp(), attempt.amd_at.timestamp(), attempt.bridged_at.timestamp()
    )
    assert segments is not None, timing
    assert sum(segments) == pytest.approx(to_bridge, abs=1e-3)
    assert all(s >= 0 for s in segments[3:6]), segments  # audio time runs forward
    assert 0 < segments[1] < 1.0 and listening.load.frames > 0, (segments, listening.load)
    # While the call goes on: the tap ends when the detector's retraction window (3 s) has
    # passed with no machine heard.
    await no_taps_left(pbx_pair)
    assert (await engine.store.get_attempt(attempt.id)).heard_machine is False
    await engine.volunteers.end_call(session.id)
    await volunteer.wait_state(SessionState.WRAP_UP)


async def test_a_person_who_answers_silently_is_put_through_on_the_silence(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    """Behaviour 11: the person says nothing for a second (waiting for the caller to speak),
    then hello: HUMAN on the silence, before their first word, and nobody taken back."""
    volunteer = await streaming_volunteer(engine, pbx_pair, carrier, [("11", 2)])
    session = await volunteer.wait_state(SessionState.TALKING, timeout=30)
    assert session.attempt_id is not None
    attempt = await engine.store.get_attempt(session.attempt_id)
    assert attempt.amd_verdict == "HUMAN", attempt.amd_cause
    assert re.fullmatch(r"SILENCE-800", attempt.amd_cause), attempt.amd_cause
    assert attempt.answered_at and attempt.amd_at and attempt.bridged_at
    to_bridge = (attempt.bridged_at - attempt.answered_at).total_seconds()
    print(f"answer → bridged {to_bridge:.3f} s")
    assert 0.7 < to_bridge < 1.3
    # Their hello comes after the verdict and is no machine: the tap goes once the window
    # after it has passed (retract_ms past the first speech), and nobody was taken back.
    await no_taps_left(pbx_pair)
    assert (await engine.store.get_attempt(attempt.id)).heard_machine is False
    assert (await volunteer.refresh()).state == SessionState.TALKING
    await engine.volunteers.end_call(session.id)
    await volunteer.wait_state(SessionState.WRAP_UP)


async def test_a_machine_is_called_machine_by_the_streaming_detector_and_not_bridged(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    volunteer = await streaming_volunteer(engine, pbx_pair, carrier, [("20", 1)])
    campaign_id = volunteer.session.campaign_id
    attempt = await wait_until(
        lambda: ended_attempt(engine, campaign_id), timeout=30, what="the machine's verdict"
    )
    assert attempt.amd_verdict == "MACHINE", attempt.amd_cause
    assert attempt.outcome == CallOutcome.MACHINE
    assert attempt.bridged_at is None and attempt.session_id is None
    assert attempt.answered_at and attempt.amd_at
    print(f"answer → MACHINE {(attempt.amd_at - attempt.answered_at).total_seconds():.3f} s")
    assert (await volunteer.refresh()).state == SessionState.READY
    await no_taps_left(pbx_pair)


async def test_a_voter_hanging_up_while_listened_to_leaves_no_tap(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    """Behaviour 35 answers and hangs up at once: the tap is torn down whether it was made
    before the hang-up or was still being made."""
    volunteer = await streaming_volunteer(engine, pbx_pair, carrier, [("35", 1)])
    campaign_id = volunteer.session.campaign_id
    attempt = await wait_until(
        lambda: ended_attempt(engine, campaign_id), timeout=30, what="the hang-up"
    )
    assert attempt.outcome == CallOutcome.HUNG_UP_DURING_AMD, attempt.outcome
    assert attempt.bridged_at is None
    await no_taps_left(pbx_pair)


async def test_stopping_the_engine_while_it_listens_removes_the_tap(
    pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog], tmp_path: Path
) -> None:
    async with running_engine(pbx_pair, tmp_path / "engine.db") as engine:
        await streaming_volunteer(engine, pbx_pair, carrier, [("20", 2)])
        async with dialer_rest(pbx_pair) as ari:
            await wait_until(lambda: taps_left(ari), timeout=30, what="a tap on the machine's call")
    await no_taps_left(pbx_pair)


async def test_early_connect_puts_a_pausing_machine_through_then_takes_it_back(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    """A machine whose greeting pauses after its first words is put through at that pause
    (early connect); the detector's MACHINE then takes it back: the volunteer hears a short
    tone and is ready again with no result owed, the attempt says a volunteer heard it."""
    # Voices 1 and 4 pause after their first words: 1 is then a long greeting (MACHINE at
    # once), 4 is first taken for a person and retracted (MANYWORDS).
    rows = [("20", 1), ("20", 4)]
    volunteer = await streaming_volunteer(
        engine, pbx_pair, carrier, rows, early_connect=True, max_attempts=1
    )
    campaign_id = volunteer.session.campaign_id
    assert volunteer.phone is not None
    recording = await volunteer.phone.start_recording()

    async def all_ended() -> list[Attempt] | None:
        attempts = await engine.store.list_attempts(campaign_id)
        return attempts if len([a for a in attempts if a.outcome]) == len(rows) else None

    attempts = await wait_until(all_ended, timeout=30, what="every machine's call")
    heard = rms_dbfs(await volunteer.phone.stop_recording(recording))
    taken_back = [a for a in attempts if a.heard_machine]
    print({a.phone[-4:]: (a.amd_verdict, a.amd_cause, a.heard_machine) for a in attempts})
    assert all(a.outcome == CallOutcome.MACHINE for a in attempts)
    assert len(taken_back) == 2, "a pausing machine was not put through early"
    assert all(a.bridged_at and a.session_id == volunteer.session.id for a in taken_back)
    assert all(a.amd_verdict == "MACHINE" for a in taken_back)
    assert heard > -40, "the volunteer heard nothing of the machines put through"
    session = await volunteer.refresh()
    assert session.state == SessionState.READY and session.attempt_id is None
    assert await engine.store.result_for_attempt(taken_back[0].id) is None
    await no_taps_left(pbx_pair)


async def test_a_machine_taken_for_a_person_is_taken_back_when_it_reads_on(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    """Machine voice 3 ("Hello! … This is Sarah and Tom") pauses like a person after its
    first word (HUMAN, put through) and then reads on: the detector retracts and the
    volunteer is taken back out."""
    volunteer = await streaming_volunteer(engine, pbx_pair, carrier, [("20", 3)])
    campaign_id = volunteer.session.campaign_id
    attempt = await wait_until(
        lambda: ended_attempt(engine, campaign_id), timeout=30, what="the machine's call"
    )
    assert attempt.outcome == CallOutcome.MACHINE
    assert (attempt.amd_verdict, attempt.heard_machine) == ("MACHINE", True), attempt.amd_cause
    assert attempt.bridged_at is not None and attempt.session_id == volunteer.session.id
    session = await volunteer.refresh()
    assert session.state == SessionState.READY and session.attempt_id is None
    await no_taps_left(pbx_pair)


async def test_an_engine_restarted_while_it_listens_listens_again(
    pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog], tmp_path: Path
) -> None:
    """The call waits in Stasis for a verdict the stopped engine can no longer give: the next
    engine (recovery) taps it again and its detector decides; the person is put through."""
    database = tmp_path / "engine.db"
    async with running_engine(pbx_pair, database) as engine:
        volunteer = await streaming_volunteer(engine, pbx_pair, carrier, [("10", 2)])
        async with dialer_rest(pbx_pair) as ari:
            await wait_until(lambda: taps_left(ari), timeout=30, what="a tap on the call")
    async with running_engine(pbx_pair, database) as engine:
        volunteer.engine = engine
        session = await volunteer.wait_state(SessionState.TALKING, timeout=15)
        assert session.attempt_id is not None
        attempt = await engine.store.get_attempt(session.attempt_id)
        assert attempt.amd_verdict == "HUMAN" and attempt.bridged_at, attempt.amd_cause
        await engine.volunteers.end_call(session.id)
        await volunteer.wait_state(SessionState.WRAP_UP)
    await no_taps_left(pbx_pair)


async def test_the_audio_goes_to_the_configured_listen_address(
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """amd.listen_address: where nodes on other machines send the engine the call's audio.
    Here another loopback address than the default: the tap sends there and the person is
    still told from a machine and put through."""
    monkeypatch.setenv("PHONEBANK_AMD_LISTEN_ADDRESS", "127.0.0.2")
    async with running_engine(pbx_pair, tmp_path / "engine.db") as engine:
        assert engine.telephony is not None
        listening = engine.telephony.calls.streaming.listening
        assert listening is not None and listening.receiver.address[0] == "127.0.0.2"
        volunteer = await streaming_volunteer(engine, pbx_pair, carrier, [("10", 3)])
        session = await volunteer.wait_state(SessionState.TALKING, timeout=30)
        assert session.attempt_id is not None
        attempt = await engine.store.get_attempt(session.attempt_id)
        assert attempt.amd_verdict == "HUMAN" and attempt.bridged_at, attempt.amd_cause
        assert listening.load.frames > 0  # the detector heard it through 127.0.0.2
        await engine.volunteers.end_call(session.id)
        await volunteer.wait_state(SessionState.WRAP_UP)
    await no_taps_left(pbx_pair)


@contextlib.contextmanager
def without_chan_rtp(pbx_pair: PbxPair) -> Iterator[None]:
    """The dialer PBX without externalMedia for a while (an older PBX: no chan_rtp)."""
    pbx_pair.dialer.cli("module unload chan_rtp.so")
    try:
        yield
    finally:
        pbx_pair.dialer.cli("module load chan_rtp.so")


async def test_a_pbx_that_cannot_tap_the_call_lets_app_amd_decide(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    with without_chan_rtp(pbx_pair):
        volunteer = await streaming_volunteer(engine, pbx_pair, carrier, [("10", 3)])
        session = await volunteer.wait_state(SessionState.TALKING, timeout=30)
    assert session.attempt_id is not None
    attempt = await engine.store.get_attempt(session.attempt_id)
    # AMD()'s cause, not the detector's: e.g. HUMAN-800-... from app_amd
    assert attempt.amd_verdict == "HUMAN" and not attempt.amd_cause.startswith("NOTAP")
    assert not re.fullmatch(r"(SHORT)?GREETING-\d+", attempt.amd_cause), attempt.amd_cause
    assert attempt.bridged_at is not None
    await engine.volunteers.end_call(session.id)
    await volunteer.wait_state(SessionState.WRAP_UP)
    await no_taps_left(pbx_pair)


async def test_a_killed_pbx_takes_the_taps_with_it_and_the_engine_forgets_them(
    tmp_path: Path,
) -> None:
    async with (
        own_pair("tapkill") as pair,
        ari_with_events(pair.carrier) as carrier,
        supervised(pair) as supervisor,
        running_engine(pair, tmp_path / "tapkill.db") as engine,
    ):
        assert engine.telephony is not None
        listening = engine.telephony.calls.streaming.listening
        assert listening is not None
        await streaming_volunteer(engine, pair, carrier, [("20", 2)])
        await wait_until(lambda: listening.receiver.routes > 0, 30, "the engine to listen")
        assert pair.dialer.pid is not None
        os.kill(pair.dialer.pid, signal.SIGKILL)
        await wait_until(lambda: supervisor.restarts == 1, 20, "the dialer PBX to be restarted")
        await wait_until(
            lambda: not listening.taps and listening.receiver.routes == 0,
            15,
            "the engine to forget the call's tap",
        )
        await no_taps_left(pair)
