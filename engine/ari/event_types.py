"""The ARI events the engine uses, as frozen dataclasses, parsed once where they arrive.

``parse_event`` turns the JSON of one event (as ``AriClient.events()`` yields it) into one of
the classes below, or None for an event the engine does not use. Our own two events (the
events websocket lost and back) are parsed too. Each class keeps the channel's JSON
(``Channel.raw``) for the code that still takes it whole (engine/calls/).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Json = Mapping[str, Any]


@dataclass(frozen=True)
class Channel:
    id: str
    state: str = ""
    caller_number: str = ""
    raw: Json = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, raw: Json) -> Channel:
        caller = raw.get("caller") or {}
        return cls(
            id=str(raw.get("id", "")),
            state=str(raw.get("state", "")),
            caller_number=str(caller.get("number", "")),
            raw=raw,
        )


@dataclass(frozen=True)
class StasisStart:
    channel: Channel
    args: tuple[str, ...] = ()

    @property
    def lane(self) -> str:
        return self.channel.id


@dataclass(frozen=True)
class StasisEnd:
    channel: Channel

    @property
    def lane(self) -> str:
        return self.channel.id


@dataclass(frozen=True)
class ChannelDestroyed:
    channel: Channel
    cause: int = 0
    """The Q.850 hangup cause (engine/calls/causes.py)."""
    tech_cause: int | None = None
    """The SIP response code behind it, when Asterisk gives one."""

    @property
    def lane(self) -> str:
        return self.channel.id


@dataclass(frozen=True)
class ChannelStateChange:
    channel: Channel

    @property
    def lane(self) -> str:
        return self.channel.id


@dataclass(frozen=True)
class ChannelDtmfReceived:
    channel: Channel
    digit: str

    @property
    def lane(self) -> str:
        return self.channel.id


@dataclass(frozen=True)
class PlaybackFinished:
    playback_id: str
    lane: str = ""


@dataclass(frozen=True)
class EndpointStateChange:
    technology: str
    resource: str
    state: str
    lane: str = ""


@dataclass(frozen=True)
class PhonebankDisconnected:
    """Ours: the events websocket was lost (``reason``); dialing is held."""

    reason: str = ""
    lane: str = ""


@dataclass(frozen=True)
class PhonebankReconnected:
    """Ours: the events websocket is back; what survived is reconciled."""

    lane: str = ""


AriEvent = (
    StasisStart
    | StasisEnd
    | ChannelDestroyed
    | ChannelStateChange
    | ChannelDtmfReceived
    | PlaybackFinished
    | EndpointStateChange
    | PhonebankDisconnected
    | PhonebankReconnected
)
"""Every event the engine handles; ``lane`` is the channel it is about ("" for none)."""

OUR_TYPES = ("PhonebankDisconnected", "PhonebankReconnected")
"""The types of our own events: each one counts (never dropped as a repeat)."""


def _channel(raw: Json) -> Channel:
    return Channel.parse(raw.get("channel") or {})


def _destroyed(raw: Json) -> ChannelDestroyed:
    tech_cause = raw.get("tech_cause")
    return ChannelDestroyed(
        _channel(raw),
        cause=int(raw.get("cause", 0)),
        tech_cause=None if tech_cause is None else int(tech_cause),
    )


def _endpoint(raw: Json) -> EndpointStateChange:
    endpoint = raw.get("endpoint") or {}
    return EndpointStateChange(
        technology=str(endpoint.get("technology", "")),
        resource=str(endpoint.get("resource", "")),
        state=str(endpoint.get("state", "unknown")),
    )


def _playback(raw: Json) -> PlaybackFinished:
    playback = raw.get("playback")
    playback_id = playback.get("id") if isinstance(playback, Mapping) else None
    return PlaybackFinished(str(playback_id))


_PARSERS: dict[str, Callable[[Json], AriEvent]] = {
    "StasisStart": lambda raw: StasisStart(
        _channel(raw), tuple(str(arg) for arg in raw.get("args") or ())
    ),
    "StasisEnd": lambda raw: StasisEnd(_channel(raw)),
    "ChannelDestroyed": _destroyed,
    "ChannelStateChange": lambda raw: ChannelStateChange(_channel(raw)),
    "ChannelDtmfReceived": lambda raw: ChannelDtmfReceived(
        _channel(raw), str(raw.get("digit", ""))
    ),
    "PlaybackFinished": _playback,
    "EndpointStateChange": _endpoint,
    "PhonebankDisconnected": lambda raw: PhonebankDisconnected(str(raw.get("reason", ""))),
    "PhonebankReconnected": lambda raw: PhonebankReconnected(),
}


def parse_event(raw: Json) -> AriEvent | None:
    """The typed event for one ARI event's JSON, or None when the engine does not use it.
    Raises KeyError/ValueError/TypeError when a used event is malformed."""
    parser = _PARSERS.get(str(raw.get("type", "")))
    return None if parser is None else parser(raw)
