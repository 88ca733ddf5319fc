"""ARI events are parsed once, where they arrive, into the typed events the engine uses."""

from __future__ import annotations

import pytest

from engine.ari.event_types import (
    Channel,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelStateChange,
    EndpointStateChange,
    PhonebankDisconnected,
    PhonebankReconnected,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
    parse_event,
)

CHANNEL = {"id": "c1", "state": "Up", "caller": {"number": "+12025550100"}}
C1 = Channel("c1", "Up", "+12025550100")


def test_stasis_start_keeps_its_arguments_in_order() -> None:
    event = parse_event({"type": "StasisStart", "channel": CHANNEL, "args": ["browser", "web-1"]})
    assert isinstance(event, StasisStart)
    assert event.args == ("browser", "web-1")
    assert event.channel == Channel("c1", "Up", "+12025550100")
    assert event.lane == "c1"


def test_stasis_start_without_arguments_has_none() -> None:
    event = parse_event({"type": "StasisStart", "channel": {"id": "c1"}})
    assert isinstance(event, StasisStart) and event.args == ()


def test_the_channel_keeps_its_json_for_the_calls() -> None:
    event = parse_event({"type": "ChannelStateChange", "channel": CHANNEL})
    assert isinstance(event, ChannelStateChange)
    assert event.channel.raw == CHANNEL


def test_channel_destroyed_carries_its_causes_as_numbers() -> None:
    event = parse_event(
        {"type": "ChannelDestroyed", "channel": CHANNEL, "cause": 17, "tech_cause": "486"}
    )
    assert event == ChannelDestroyed(C1, cause=17, tech_cause=486)


def test_channel_destroyed_without_a_sip_code_has_no_tech_cause() -> None:
    event = parse_event({"type": "ChannelDestroyed", "channel": CHANNEL})
    assert isinstance(event, ChannelDestroyed)
    assert (event.cause, event.tech_cause) == (0, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"type": "ChannelDtmfReceived", "channel": CHANNEL, "digit": "5"},
            ChannelDtmfReceived(C1, "5"),
        ),
        ({"type": "StasisEnd", "channel": CHANNEL}, StasisEnd(C1)),
        ({"type": "PlaybackFinished", "playback": {"id": "p1"}}, PlaybackFinished("p1")),
        (
            {
                "type": "EndpointStateChange",
                "endpoint": {"technology": "PJSIP", "resource": "carrier", "state": "offline"},
            },
            EndpointStateChange("PJSIP", "carrier", "offline"),
        ),
        (
            {"type": "PhonebankDisconnected", "reason": "closed, code 1006"},
            PhonebankDisconnected("closed, code 1006"),
        ),
        ({"type": "PhonebankReconnected"}, PhonebankReconnected()),
    ],
)
def test_each_event_the_engine_uses_is_parsed(raw: dict[str, object], expected: object) -> None:
    assert parse_event(raw) == expected


def test_events_without_a_channel_share_the_no_channel_lane() -> None:
    event = parse_event({"type": "PhonebankReconnected"})
    assert event is not None and event.lane == ""


def test_an_event_the_engine_does_not_use_is_none() -> None:
    assert parse_event({"type": "ChannelVarset", "channel": CHANNEL}) is None
    assert parse_event({}) is None


def test_a_malformed_cause_raises() -> None:
    with pytest.raises(ValueError):
        parse_event({"type": "ChannelDestroyed", "channel": CHANNEL, "cause": "busy"})
