"""Simulated volunteer phones reach the dialer PBX's Stasis app, send DTMF and carry audio."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from engine.ari.client import AriClient
from testbed.audio import SILENCE_DBFS, rms_dbfs, wav_finished
from testbed.behaviours import voter_number
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.phones import VolunteerPhone
from tests.helpers import wait_until


async def answered_call_in(
    pair: PbxPair, dialer: tuple[AriClient, EventLog], carrier: tuple[AriClient, EventLog]
) -> tuple[VolunteerPhone, dict[str, Any]]:
    """A volunteer phone calls in; the test, acting as the engine, answers it in Stasis."""
    ari, events = dialer
    since = events.mark()
    calling = asyncio.create_task(VolunteerPhone.call_in(pair, *carrier))
    start = await events.wait_for(
        lambda e: e["type"] == "StasisStart" and e.get("args", [""])[0] == "callin",
        what="the call-in in the dialer's Stasis app",
        since=since,
    )
    await ari.answer(start["channel"]["id"])
    return await calling, start


async def test_call_in_reaches_stasis_with_the_dialed_number_and_caller(
    pbx_pair: PbxPair, dialer: tuple[AriClient, EventLog], carrier: tuple[AriClient, EventLog]
) -> None:
    _, start = await answered_call_in(pbx_pair, dialer, carrier)
    assert start["args"] == ["callin", pbx_pair.dialer.spec.extra["callin_number"]]
    assert start["channel"]["caller"]["number"] == "+12025550199"


async def test_dtmf_sent_by_the_phone_reaches_the_dialers_stasis_app(
    pbx_pair: PbxPair, dialer: tuple[AriClient, EventLog], carrier: tuple[AriClient, EventLog]
) -> None:
    _, events = dialer
    phone, start = await answered_call_in(pbx_pair, dialer, carrier)
    channel_id = start["channel"]["id"]

    await phone.send_dtmf("4821#")

    def digits() -> str:
        return "".join(
            e["digit"] for e in events.of_channel(channel_id) if e["type"] == "ChannelDtmfReceived"
        )

    await wait_until(lambda: len(digits()) == 5, timeout=10, what="five DTMF digits")
    assert digits() == "4821#"


async def bridge_with_voter(
    pair: PbxPair,
    dialer: tuple[AriClient, EventLog],
    carrier: tuple[AriClient, EventLog],
    behaviour: str,
) -> tuple[VolunteerPhone, str]:
    """A volunteer on the line and a voter of ``behaviour`` in one mixing bridge on the dialer."""
    ari, events = dialer
    phone, start = await answered_call_in(pair, dialer, carrier)
    bridge = await ari.create_bridge("mixing", bridge_id=f"bridge-{uuid.uuid4().hex[:8]}")
    await ari.add_channel(bridge["id"], start["channel"]["id"])
    voter_id = f"voter-{uuid.uuid4().hex[:8]}"
    await ari.originate(
        f"PJSIP/{voter_number(behaviour)}@carrier",
        channel_id=voter_id,
        app="phonebank",
        app_args="audio-test",
        timeout=10,
    )
    await events.wait_type("StasisStart", voter_id)
    await ari.add_channel(bridge["id"], voter_id)
    return phone, voter_id


def clear_recordings(pair: PbxPair) -> None:
    """Other tests of the session may have left recordings of their voters."""
    for old in pair.carrier.path("recordings").glob("*.wav"):
        old.unlink()


async def heard_by_voter(
    pair: PbxPair, ari: AriClient, carrier_ari: AriClient, voter_id: str
) -> float:
    """Hang up the voter and return the level of what the carrier recorded it hearing."""
    await ari.hangup(voter_id)
    await wait_until(lambda: _no_voter_channels(carrier_ari), what="the voter's end to hang up")
    recordings = pair.carrier.path("recordings")
    path = await wait_until(
        lambda: next(iter(recordings.glob("*-heard.wav")), None),
        timeout=10,
        what="the voter's recording",
    )
    # MixMonitor finishes writing the file after the hangup; the header says how much audio
    # it holds only once it is closed.
    await wait_until(lambda: wav_finished(path), what="the recording to be closed")
    try:
        return rms_dbfs(path)
    finally:
        for leftover in recordings.glob("*.wav"):
            leftover.unlink()


async def _no_voter_channels(carrier_ari: AriClient) -> bool:
    channels = await carrier_ari.list_channels()
    return not [
        c for c in channels if c["dialplan"]["context"].startswith(("voter-", "talk", "answer"))
    ]


async def test_volunteer_hears_the_voter_speak(
    pbx_pair: PbxPair, dialer: tuple[AriClient, EventLog], carrier: tuple[AriClient, EventLog]
) -> None:
    phone, _ = await bridge_with_voter(pbx_pair, dialer, carrier, "10")
    recording = await phone.start_recording()
    await asyncio.sleep(3.0)  # record three seconds of the live person's greeting and talk
    level = rms_dbfs(await phone.stop_recording(recording))
    assert level > -40.0, f"the volunteer heard only {level} dBFS while the voter spoke"


async def test_volunteer_hears_silence_when_the_voter_says_nothing(
    pbx_pair: PbxPair, dialer: tuple[AriClient, EventLog], carrier: tuple[AriClient, EventLog]
) -> None:
    phone, _ = await bridge_with_voter(pbx_pair, dialer, carrier, "90")
    recording = await phone.start_recording()
    await asyncio.sleep(3.0)  # record three seconds of a silent line
    level = rms_dbfs(await phone.stop_recording(recording))
    assert level < SILENCE_DBFS, f"the volunteer heard {level} dBFS from a silent voter"


async def test_voter_hears_the_volunteer_speak(
    pbx_pair: PbxPair, dialer: tuple[AriClient, EventLog], carrier: tuple[AriClient, EventLog]
) -> None:
    ari, _ = dialer
    clear_recordings(pbx_pair)
    await carrier[0].set_global_variable("RECORD_VOTERS", "1")
    try:
        phone, voter_id = await bridge_with_voter(pbx_pair, dialer, carrier, "90")
        await phone.say(1)
        level = await heard_by_voter(pbx_pair, ari, carrier[0], voter_id)
    finally:
        await carrier[0].set_global_variable("RECORD_VOTERS", "0")
    assert level > -40.0, f"the voter heard only {level} dBFS while the volunteer spoke"


async def test_voter_hears_silence_when_the_volunteer_says_nothing(
    pbx_pair: PbxPair, dialer: tuple[AriClient, EventLog], carrier: tuple[AriClient, EventLog]
) -> None:
    ari, _ = dialer
    clear_recordings(pbx_pair)
    await carrier[0].set_global_variable("RECORD_VOTERS", "1")
    try:
        _, voter_id = await bridge_with_voter(pbx_pair, dialer, carrier, "90")
        await asyncio.sleep(3.0)  # three seconds in which the volunteer says nothing
        level = await heard_by_voter(pbx_pair, ari, carrier[0], voter_id)
    finally:
        await carrier[0].set_global_variable("RECORD_VOTERS", "0")
    assert level < SILENCE_DBFS, f"the voter heard {level} dBFS from a silent volunteer"
