"""Events Asterisk delivers twice are dropped; our own websocket events never are."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from engine.app import Engine
from engine.audio.sounds import SoundLibrary
from engine.config import load_config
from engine.store.sqlite.store import SqliteStore
from engine.telephony.event_repeats import RepeatFilter
from tests.helpers import wait_until
from tests.unit.fake_ari import FakeAri

DTMF = {"type": "ChannelDtmfReceived", "channel": {"id": "c1"}, "digit": "1"}


def test_an_exact_repeat_is_dropped() -> None:
    repeats = RepeatFilter()
    assert not repeats.seen(DTMF)
    assert repeats.seen(dict(DTMF))


def test_the_same_event_with_any_field_changed_is_not_a_repeat() -> None:
    repeats = RepeatFilter()
    assert not repeats.seen(DTMF)
    assert not repeats.seen({**DTMF, "digit": "2"})


def test_key_order_does_not_hide_a_repeat() -> None:
    repeats = RepeatFilter()
    assert not repeats.seen({"type": "StasisEnd", "channel": {"id": "c1"}})
    assert repeats.seen({"channel": {"id": "c1"}, "type": "StasisEnd"})


def test_our_disconnected_and_reconnected_events_are_never_dropped() -> None:
    repeats = RepeatFilter()
    lost = {"type": "PhonebankDisconnected", "reason": "closed, code 1006"}
    back = {"type": "PhonebankReconnected"}
    for _ in range(3):
        assert not repeats.seen(lost)
        assert not repeats.seen(back)


def test_a_repeat_older_than_the_window_counts_again() -> None:
    repeats = RepeatFilter(window=2)
    assert not repeats.seen(DTMF)
    assert not repeats.seen({**DTMF, "digit": "2"})
    assert not repeats.seen({**DTMF, "digit": "3"})
    assert not repeats.seen(DTMF)


async def test_the_runtime_handles_a_doubled_event_once(tmp_path: Path) -> None:
    """A browser call from an unknown endpoint is hung up: delivered twice (endpoint and
    channel subscriptions), it is hung up once; a new channel's is hung up too."""
    store = SqliteStore.open(":memory:")
    sounds = SoundLibrary(tmp_path, PurePosixPath("/sounds"))
    async with (
        FakeAri() as fake,
        Engine.running(load_config(environ={}), fake.settings(), sounds, store),
    ):
        await wait_until(lambda: fake.connected_websockets, 5, "the events websocket")
        for channel_id in ("b1", "b1", "b2"):
            start = {"type": "StasisStart", "channel": {"id": channel_id}, "args": ["browser", "x"]}
            await fake.push_event(start)
        await wait_until(lambda: fake.requests_to("DELETE", "/channels/b2"), 5, "the hang-up")
        assert len(fake.requests_to("DELETE", "/channels/b1")) == 1
    await store.close()
