"""ARI events are handled in order per channel and a slow handler holds up only its channel."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from engine.errors import AriError
from engine.telephony.event_lanes import EventLanes, lane_of
from tests.helpers import wait_until


def event(kind: str, channel: str | None, **fields: object) -> dict[str, Any]:
    return {"type": kind, **({"channel": {"id": channel}} if channel else {}), **fields}


async def test_a_blocked_handler_does_not_delay_another_channels_events() -> None:
    never = asyncio.Event()
    handled: list[tuple[str, str]] = []

    async def handle(ev: dict[str, Any]) -> None:
        if ev["type"] == "Block":
            await never.wait()  # e.g. a playback that never finishes
        handled.append((lane_of(ev), ev["type"]))

    lanes = EventLanes(handle)
    lanes.route(event("Block", "A"))
    lanes.route(event("ChannelDtmfReceived", "A", digit="1"))
    lanes.route(event("StasisStart", "B"))
    lanes.route(event("ChannelDtmfReceived", "B", digit="2"))
    await wait_until(lambda: len(handled) == 2, 1.0, "channel B's events", 0.01)
    assert handled == [("B", "StasisStart"), ("B", "ChannelDtmfReceived")]
    never.set()
    await wait_until(lambda: len(handled) == 4, 1.0, "channel A's events", 0.01)
    assert handled[2:] == [("A", "Block"), ("A", "ChannelDtmfReceived")]
    await lanes.close()


async def test_each_channels_events_keep_their_order() -> None:
    handled: dict[str, list[int]] = {"A": [], "B": []}

    async def handle(ev: dict[str, Any]) -> None:
        await asyncio.sleep(0.001 * (ev["n"] % 3))  # handlers that take varying time
        handled[lane_of(ev)].append(ev["n"])

    lanes = EventLanes(handle)
    for n in range(30):
        lanes.route(event("ChannelDtmfReceived", "A" if n % 2 else "B", n=n))
    await wait_until(lambda: not len(lanes), 2.0, "the lanes to drain", 0.01)
    assert handled["A"] == list(range(1, 30, 2))
    assert handled["B"] == list(range(0, 30, 2))


async def test_a_lane_ends_when_idle_and_starts_again_for_the_next_event() -> None:
    handled: list[str] = []

    async def handle(ev: dict[str, Any]) -> None:
        handled.append(ev["type"])

    lanes = EventLanes(handle)
    lanes.route(event("StasisStart", "A"))
    await wait_until(lambda: not len(lanes), 1.0, "the lane to end", 0.01)
    lanes.route(event("ChannelDestroyed", "A"))
    await wait_until(lambda: handled == ["StasisStart", "ChannelDestroyed"], 1.0, "both", 0.01)


async def test_events_without_a_channel_share_one_lane() -> None:
    assert lane_of({"type": "PhonebankReconnected"}) == lane_of({"type": "BridgeDestroyed"})


async def test_a_failing_handler_is_logged_and_its_lane_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handled: list[str] = []

    async def handle(ev: dict[str, Any]) -> None:
        if ev["type"] == "Boom":
            raise RuntimeError("bug")
        if ev["type"] == "Gone":
            raise AriError("channel not found")
        handled.append(ev["type"])

    lanes = EventLanes(handle)
    with caplog.at_level(logging.WARNING, logger="engine.telephony.event_lanes"):
        for kind in ("Boom", "Gone", "StasisEnd"):
            lanes.route(event(kind, "A"))
        await wait_until(lambda: handled == ["StasisEnd"], 1.0, "the lane to go on", 0.01)
    assert "failed to handle ARI event Boom of A" in caplog.text
    assert "ARI error while handling Gone of A" in caplog.text


async def test_a_slow_handler_is_reported_with_its_channel(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def handle(ev: dict[str, Any]) -> None:
        await asyncio.sleep(0.6)

    lanes = EventLanes(handle)
    with caplog.at_level(logging.WARNING, logger="engine.telephony.event_lanes"):
        lanes.route(event("ChannelDtmfReceived", "A"))
        await wait_until(lambda: not len(lanes), 2.0, "the slow handler", 0.01)
    assert "Processing delayed: ChannelDtmfReceived of A took" in caplog.text


async def test_close_stops_blocked_lanes() -> None:
    started = asyncio.Event()

    async def handle(ev: dict[str, Any]) -> None:
        started.set()
        await asyncio.Event().wait()

    lanes = EventLanes(handle)
    lanes.route(event("StasisStart", "A"))
    await asyncio.wait_for(started.wait(), 1.0)
    await lanes.close()
    assert not len(lanes)
