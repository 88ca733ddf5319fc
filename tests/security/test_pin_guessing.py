"""PIN guessing and line takeover on the real PBX pair, volunteers' phones played by the
carrier simulator: per-caller and overall limits on wrong PINs, one slow call-in never delays
another, idle PIN entry is hung up, and a live PIN never takes a connected volunteer's line.

Limits are made small through PHONEBANK_CALLIN_* (the defaults are checked by
tests/unit/test_pin_limits.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from engine.app import Engine
from engine.ari.client import AriClient
from engine.errors import AriNotFound
from engine.models import Session, SessionState
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.phones import VolunteerPhone
from testbed.shift import SimVolunteer, make_campaign, running_engine, voters_csv
from tests.conftest import ari_settings, clear_pbx
from tests.helpers import wait_until

ENGINE_LOGGERS = "engine"


@pytest.fixture(autouse=True)
async def clean_pbx(pbx_pair: PbxPair) -> AsyncIterator[None]:
    """Every channel hung up and every bridge destroyed on both instances after each test."""
    yield
    await clear_pbx(pbx_pair)


@contextlib.asynccontextmanager
async def engine_with(
    pair: PbxPair, database: Path, monkeypatch: pytest.MonkeyPatch, **callin: str
) -> AsyncIterator[Engine]:
    """The engine with some [callin] settings, e.g. caller_failures="3"."""
    for key, value in callin.items():
        monkeypatch.setenv(f"PHONEBANK_CALLIN_{key.upper()}", value)
    async with running_engine(pair, database) as engine:
        yield engine


async def volunteers(engine: Engine, count: int) -> list[SimVolunteer]:
    campaign = await make_campaign(engine, voters_csv([("90", 1)]))
    return [await SimVolunteer.sign_in(engine, campaign, n) for n in range(count)]


def wrong_pin(*live: Session) -> str:
    digit = next(d for d in "123456789" if all(s.pin != d * len(s.pin) for s in live))
    return digit * len(live[0].pin)


async def phone_from(
    pair: PbxPair, carrier: tuple[AriClient, EventLog], caller: str
) -> VolunteerPhone:
    return await VolunteerPhone.call_in(pair, *carrier, caller=caller)


async def state(volunteer: SimVolunteer) -> SessionState:
    return (await volunteer.refresh()).state


async def test_wrong_pins_lock_the_caller_id_then_every_caller(
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=ENGINE_LOGGERS)
    limits = {"caller_failures": "3", "overall_failures": "5"}
    async with engine_with(pbx_pair, tmp_path / "pins.db", monkeypatch, **limits) as engine:
        ann, bob = await volunteers(engine, 2)
        wrong = wrong_pin(ann.session, bob.session)
        # Caller A: three wrong PINs end the call and lock caller A.
        guesser = await phone_from(pbx_pair, carrier, "+12025550001")
        await guesser.send_dtmf(wrong * 3)
        await guesser.wait_hung_up(timeout=20)
        # Caller A again, now with a live PIN: refused without the PIN being looked at.
        guesser = await phone_from(pbx_pair, carrier, "+12025550001")
        await guesser.send_dtmf(ann.session.pin)
        await guesser.wait_hung_up(timeout=20)
        assert await state(ann) == SessionState.WAITING_FOR_PHONE
        # Another caller ID is not locked: the same PIN connects.
        ann.phone = await phone_from(pbx_pair, carrier, "+12025550002")
        await ann.phone.send_dtmf(ann.session.pin)
        await ann.wait_state(SessionState.CONNECTED, timeout=15)
        # A third caller ID: its second wrong PIN is the fifth overall, which locks everyone;
        # the call ends at once instead of waiting for a third try.
        other = await phone_from(pbx_pair, carrier, "+12025550003")
        await other.send_dtmf(wrong * 2)
        await other.wait_hung_up(timeout=15)
        # A fresh caller ID with a live PIN is refused while the overall lock lasts.
        bob.phone = await phone_from(pbx_pair, carrier, "+12025550004")
        await bob.phone.send_dtmf(bob.session.pin)
        await bob.phone.wait_hung_up(timeout=20)
        assert await state(bob) == SessionState.WAITING_FOR_PHONE
        assert await state(ann) == SessionState.CONNECTED  # a connected volunteer stays
    messages = [r.getMessage() for r in caplog.records if r.name.startswith(ENGINE_LOGGERS)]
    assert any("caller +12025550001 reached the limit" in m for m in messages)
    assert any("all callers together reached the limit" in m for m in messages)
    assert sum("wrong PIN (unknown PIN of 8 digits)" in m for m in messages) == 5
    assert not [m for m in messages if wrong in m or bob.session.pin in m], "digits were logged"


async def test_a_slow_call_in_does_not_delay_another_volunteers_call_in(
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """While the third wrong PIN's goodbye plays to one caller, another volunteer's call-in
    joins its bridge within 1.5 s of its last digit (it took 11.1 s when the goodbye was
    awaited inside the DTMF handler)."""
    caplog.set_level(logging.INFO, logger=ENGINE_LOGGERS)
    async with (
        engine_with(pbx_pair, tmp_path / "slow.db", monkeypatch) as engine,
        dtmf_probe(pbx_pair) as probe,
    ):
        [ann] = await volunteers(engine, 1)
        guesser = await phone_from(pbx_pair, carrier, "+12025550005")
        ann.phone = await phone_from(pbx_pair, carrier, "+12025550006")
        await guesser.send_dtmf(wrong_pin(ann.session) * 3)
        await wait_until(lambda: "failure 3 of 3" in caplog.text, 15, "the third wrong PIN")
        since = probe.mark()
        await ann.phone.send_dtmf(ann.session.pin)
        last_digit = await probe.wait_for(
            lambda e: (
                e["type"] == "ChannelDtmfReceived"
                and e["digit"] == ann.session.pin[-1]
                and len(dtmf_after(probe, since, e["channel"]["id"])) == len(ann.session.pin)
            ),
            timeout=15,
            what="the volunteer's last digit",
            since=since,
        )
        heard_at = time.monotonic()
        await ann.wait_state(SessionState.CONNECTED, timeout=15)
        took = time.monotonic() - heard_at
        assert took < 3.0, f"the volunteer joined {took:.1f} s after their last digit"
        session = await ann.refresh()
        assert session.channel_id == last_digit["channel"]["id"]
        assert session.channel_id in await bridge_members(pbx_pair, session.bridge_id)
        assert not [r for r in caplog.records if "Processing delayed" in r.getMessage()]


async def test_a_call_in_that_types_nothing_is_hung_up(
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with engine_with(pbx_pair, tmp_path / "idle.db", monkeypatch, pin_idle_seconds="3"):
        phone = await phone_from(pbx_pair, carrier, "+12025550007")
        started = time.monotonic()
        await phone.wait_hung_up(timeout=20)
        took = time.monotonic() - started
        assert 3 <= took < 12, f"the silent call-in was hung up after {took:.1f} s"


async def test_a_live_pin_does_not_take_a_connected_volunteers_line(
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with engine_with(pbx_pair, tmp_path / "takeover.db", monkeypatch) as engine:
        [ann] = await volunteers(engine, 1)
        await ann.call_in(pbx_pair, carrier)
        connected = await ann.refresh()
        with engine.notifier.session_events(ann.session.id) as events:
            intruder = await phone_from(pbx_pair, carrier, "+12025550666")
            await intruder.send_dtmf(ann.session.pin)
            await intruder.wait_hung_up(timeout=20)
            notice = await wait_until(lambda: _of_type(events, "pin_in_use"), 5, "the notice")
        assert "They were refused" in notice["message"]
        session = await ann.refresh()
        assert session.state == SessionState.CONNECTED
        assert session.channel_id == connected.channel_id
        assert connected.channel_id in await bridge_members(pbx_pair, connected.bridge_id)
        assert ann.phone is not None
        carrier_channels = [c["id"] for c in await carrier[0].list_channels()]
        assert ann.phone.channel_id in carrier_channels, "the volunteer's phone was hung up"


# --- helpers ---------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def dtmf_probe(pair: PbxPair) -> AsyncIterator[EventLog]:
    """A second ARI app on the dialer PBX that sees the events of call-ins from the carrier
    (the engine owns app 'phonebank'), to time digits against the engine's actions."""
    async with (
        AriClient.connect(ari_settings(pair.dialer, app="pin-probe")) as ari,
        EventLog.running(ari) as log,
    ):
        await ari.wait_connected(10)
        await ari.subscribe("endpoint:PJSIP/carrier")
        try:
            yield log
        finally:
            with contextlib.suppress(AriNotFound):
                await ari.unsubscribe("endpoint:PJSIP/carrier")


def dtmf_after(probe: EventLog, since: int, channel_id: str) -> list[str]:
    return [
        e["digit"]
        for e in probe.events[since:]
        if e["type"] == "ChannelDtmfReceived" and e["channel"]["id"] == channel_id
    ]


async def bridge_members(pair: PbxPair, bridge_id: str | None) -> list[str]:
    async with AriClient.connect(ari_settings(pair.dialer, app="")) as ari:
        bridges = {b["id"]: b for b in await ari.list_bridges()}
    return list(bridges[bridge_id]["channels"]) if bridge_id in bridges else []


def _of_type(queue: asyncio.Queue[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    while not queue.empty():
        event = queue.get_nowait()
        if event["type"] == kind:
            return event
    return None
