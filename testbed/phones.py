"""Simulated volunteer phones: the carrier simulator calls the dialer PBX's call-in number.

A phone stays on the line for the whole shift (its channel waits in the carrier's Stasis app),
sends DTMF as RFC 4733 events, speaks synthetic phrases on demand and can record what it
hears through a snoop channel, so tests can measure that audio flows.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from engine.ari.client import AriClient
from engine.errors import AriNotFound
from testbed.carrier import CARRIER_APP
from testbed.events import EventLog
from testbed.pair import PbxPair


@dataclass
class Recording:
    name: str
    path: Path
    """Host path of the WAV file, complete once stop() returned."""
    snoop_id: str


class VolunteerPhone:
    def __init__(self, pair: PbxPair, ari: AriClient, events: EventLog, channel_id: str) -> None:
        self.pair = pair
        self.ari = ari
        self.events = events
        self.channel_id = channel_id

    @classmethod
    async def call_in(
        cls,
        pair: PbxPair,
        ari: AriClient,
        events: EventLog,
        *,
        caller: str = "+12025550199",
        number: str | None = None,
        answer_timeout: float = 10.0,
        via: str | None = None,
    ) -> VolunteerPhone:
        """Dial the call-in number and return once the dialer PBX has answered.

        ``via``: send the call to this SIP address (host:port: the Kamailio front of several
        dialer nodes) instead of the dialer PBX's.

        Raises TimeoutError if the call is not answered within ``answer_timeout`` seconds.
        """
        number = number or str(pair.dialer.spec.extra["callin_number"])
        channel_id = f"phone-{uuid.uuid4().hex[:12]}"
        target = f"PJSIP/{number}@dialer" if via is None else f"PJSIP/dialer/sip:{number}@{via}"
        await ari.originate(
            target,
            channel_id=channel_id,
            app=CARRIER_APP,
            app_args="phone",
            caller_id=f"Volunteer <{caller}>",
            timeout=int(answer_timeout),
        )
        await events.wait_type("StasisStart", channel_id, timeout=answer_timeout + 2)
        return cls(pair, ari, events, channel_id)

    async def send_dtmf(self, digits: str) -> None:
        """Send ``digits`` as RFC 4733 events (100 ms tones, 100 ms apart)."""
        await self.ari.send_dtmf(self.channel_id, digits, between_ms=100, duration_ms=100)

    async def say(self, index: int = 0, *, wait: bool = True) -> float:
        """Speak volunteer phrase ``index`` into the call; return its length in seconds."""
        playback_id = f"say-{uuid.uuid4().hex[:12]}"
        await self.ari.play(
            "channels",
            self.channel_id,
            self.pair.voice("volunteer", index),
            playback_id=playback_id,
        )
        if wait:
            await self.events.wait_for(
                lambda e: (
                    e.get("type") == "PlaybackFinished"
                    and e.get("playback", {}).get("id") == playback_id
                ),
                timeout=30,
                what=f"end of phrase {index}",
            )
        files = [f for f in self.pair.voices["files"] if f["kind"] == "volunteer"]
        return float(files[index % len(files)]["seconds"])

    async def start_recording(self) -> Recording:
        """Record what this phone hears (the audio coming from the dialer PBX)."""
        snoop_id = f"snoop-{uuid.uuid4().hex[:12]}"
        name = f"heard-{self.channel_id}-{uuid.uuid4().hex[:6]}"
        await self.ari.snoop(
            self.channel_id, spy="in", app=CARRIER_APP, app_args="snoop", snoop_id=snoop_id
        )
        await self.events.wait_type("StasisStart", snoop_id)
        await self.ari.record("channels", snoop_id, name, format="wav")
        path = self.pair.carrier.path("spool") / "recording" / f"{name}.wav"
        return Recording(name, path, snoop_id)

    async def stop_recording(self, recording: Recording) -> Path:
        await self.ari.stop_recording(recording.name)
        await self.events.wait_for(
            lambda e: (
                e.get("type") == "RecordingFinished"
                and e.get("recording", {}).get("name") == recording.name
            ),
            what=f"recording {recording.name} to finish",
        )
        with contextlib.suppress(AriNotFound):
            await self.ari.hangup(recording.snoop_id)
        return recording.path

    async def hangup(self) -> None:
        with contextlib.suppress(AriNotFound):
            await self.ari.hangup(self.channel_id)

    async def wait_hung_up(self, timeout: float = 10.0) -> None:
        """Wait until the dialer PBX (or anyone) ends this phone's call."""
        await self.events.wait_type("StasisEnd", self.channel_id, timeout=timeout)


async def record_for(phone: VolunteerPhone, seconds: float) -> Path:
    recording = await phone.start_recording()
    await asyncio.sleep(seconds)
    return await phone.stop_recording(recording)
