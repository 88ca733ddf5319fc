"""Listening to an answered voter for the streaming answering-machine detector.

Each call's tap is three things on the dialer PBX, all named after the voter's channel:

    voter channel ◀─spy "in"── amdtap-s-<id> (snoop) ──┐ bridge amdtap-b-<id>
                                                       └── amdtap-m-<id> (externalMedia)
                                                              │ RTP, mu-law, 20 ms
                                                              ▼
                                   the engine's RtpReceiver (one UDP socket on loopback)

The snoop hears only what the voter says, wherever the voter's channel is (alone in Stasis,
or already in a volunteer's bridge after an early connect); the externalMedia channel sends
it to the engine, whose receiver routes it by source port to the call's detector frame by
frame. `stop` removes all three; ids no tap owns are swept at start and after a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol

from engine.amd.greeting import GreetingFeatures
from engine.amd.rtp import Address, RtpReceiver
from engine.amd.timing import DetectorLoad, TapTiming
from engine.ari.client import AriClient
from engine.ari.rest import Json
from engine.errors import AriError, AriNotFound, SetupError

log = logging.getLogger(__name__)

TAP_PREFIX = "amdtap-"
JOIN_TRIES = 100
JOIN_RETRY_S = 0.005
"""The tap's channels are joined within JOIN_TRIES × JOIN_RETRY_S of their creation."""
SLOW_TAP_MS = 100
"""Making a tap takes ~10 ms; slower ones are logged (the detector misses that much audio)."""
NO_AUDIO_VERDICT_S = 1.0
"""A tap whose detector has not decided this long after its analysis limit (no audio arrived
at all) ends NOTSURE, cause NOAUDIO."""
TIMINGS_KEPT = 1000


class FrameDetector(Protocol):
    """What a tap needs of the detector (engine/amd/detector.py StreamingDetector)."""

    def feed(self, frame: bytes) -> _Decision | None: ...

    @property
    def first_utterance_end_ms(self) -> int | None: ...

    @property
    def last_speech_end_ms(self) -> int | None: ...

    def features(self) -> GreetingFeatures: ...

    @property
    def finished(self) -> bool: ...


class _Decision(Protocol):
    @property
    def verdict(self) -> str: ...
    @property
    def cause(self) -> str: ...
    @property
    def at_ms(self) -> int: ...


OnVerdict = Callable[[str, str, int], None]
"""(verdict, cause, audio ms at the decision): HUMAN, MACHINE or NOTSURE."""
OnUtteranceEnd = Callable[[int], None]
"""The first utterance ended, this many ms into the audio (the early-connect trigger)."""
OnFinished = Callable[[], None]
"""The detector will decide nothing more (its verdict is final): the tap may go."""


def tap_ids(channel_id: str) -> tuple[str, str, str]:
    """(snoop channel, externalMedia channel, bridge) of the voter's channel `channel_id`."""
    return (
        f"{TAP_PREFIX}s-{channel_id}",
        f"{TAP_PREFIX}m-{channel_id}",
        f"{TAP_PREFIX}b-{channel_id}",
    )


@dataclass
class Tap:
    channel_id: str
    detector: FrameDetector
    on_verdict: OnVerdict
    on_utterance_end: OnUtteranceEnd | None
    on_finished: OnFinished | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    source: Address | None = None
    stopped: bool = False
    frames: int = 0
    decided: bool = False
    utterance_told: bool = False
    finished_told: bool = False
    started_at: float = field(default_factory=time.monotonic)
    first_frame_at: float | None = None
    timer: asyncio.TimerHandle | None = None
    timing: TapTiming = field(init=False)

    def __post_init__(self) -> None:
        self.timing = TapTiming(self.channel_id, time.time())


class Listening:
    """The taps of the calls being listened to."""

    def __init__(self, ari: AriClient, receiver: RtpReceiver, *, app: str) -> None:
        self.ari = ari
        self.receiver = receiver
        self.app = app
        self.taps: dict[str, Tap] = {}
        self.timings: OrderedDict[str, TapTiming] = OrderedDict()
        """The last TIMINGS_KEPT taps' timings, by the voter's channel, oldest first."""
        self.load = DetectorLoad()

    def listening(self, channel_id: str) -> bool:
        return channel_id in self.taps

    async def start(
        self,
        channel_id: str,
        detector: FrameDetector,
        on_verdict: OnVerdict,
        *,
        on_utterance_end: OnUtteranceEnd | None = None,
        on_finished: OnFinished | None = None,
        max_analysis_ms: int = 5000,
    ) -> None:
        """Tap the voter's channel and feed its audio to `detector`; `on_verdict` gets each
        decision (and NOTSURE/NOAUDIO if none comes in time), `on_finished` is told once the
        detector has decided for good.

        Raises AriNotFound when the voter's channel is gone, AriError when the PBX refused
        the tap (what was made of it is removed first)."""
        tap = Tap(channel_id, detector, on_verdict, on_utterance_end, on_finished)
        self.taps[channel_id] = tap
        async with tap.lock:
            if tap.stopped:
                return
            try:
                await self._make(tap)
                tap.timing = dataclasses.replace(tap.timing, made=time.time())
                made_ms = 1000 * (time.monotonic() - tap.started_at)
                if made_ms > SLOW_TAP_MS:
                    log.warning("call %s: the tap took %.0f ms to make", channel_id, made_ms)
            except AriError:
                self.taps.pop(channel_id, None)
                await self._remove(tap)
                raise
        limit_s = max_analysis_ms / 1000 + NO_AUDIO_VERDICT_S
        tap.timer = asyncio.get_running_loop().call_later(limit_s, self._no_audio, tap)

    async def _make(self, tap: Tap) -> None:
        snoop_id, media_id, bridge_id = tap_ids(tap.channel_id)
        host, port = self.receiver.address
        await self.ari.create_bridge("mixing", bridge_id=bridge_id, name="amd tap")
        media = await self.ari.external_media(
            app=self.app, external_host=f"{host}:{port}", channel_id=media_id
        )
        tap.source = await self._source(media_id, media)
        self.receiver.expect(tap.source, lambda frame: self._frame(tap, frame))
        await self.ari.snoop(tap.channel_id, spy="in", app=self.app, snoop_id=snoop_id)
        await self._join(bridge_id, f"{snoop_id},{media_id}")

    async def _join(self, bridge_id: str, channels: str) -> None:
        """Add the new channels to the bridge as soon as they are in Stasis: Asterisk puts a
        new snoop channel there a moment after answering the request (HTTP 422 until then)."""
        for _ in range(JOIN_TRIES - 1):
            try:
                await self.ari.add_channel(bridge_id, channels)
                return
            except AriNotFound:
                raise
            except AriError as exc:
                if "HTTP 422" not in str(exc):
                    raise
            await asyncio.sleep(JOIN_RETRY_S)
        await self.ari.add_channel(bridge_id, channels)

    async def _source(self, media_id: str, media: Json) -> Address:
        """The address the externalMedia channel sends from."""
        variables = media.get("channelvars")
        if not isinstance(variables, dict):
            variables = {
                name: await self.ari.get_variable(media_id, name)
                for name in ("UNICASTRTP_LOCAL_ADDRESS", "UNICASTRTP_LOCAL_PORT")
            }
        address = str(variables.get("UNICASTRTP_LOCAL_ADDRESS") or "127.0.0.1")
        return (address, int(str(variables.get("UNICASTRTP_LOCAL_PORT"))))

    def _frame(self, tap: Tap, frame: bytes) -> None:
        if tap.stopped:
            return
        if tap.first_frame_at is None:
            tap.first_frame_at = time.monotonic()
            tap.timing = dataclasses.replace(tap.timing, first_frame=time.time())
            log.debug(
                "call %s: first audio frame %.0f ms after the tap started",
                tap.channel_id,
                1000 * (tap.first_frame_at - tap.started_at),
            )
        tap.frames += 1
        cpu = time.thread_time()
        decision = tap.detector.feed(frame)
        self.load.cpu_s += time.thread_time() - cpu
        self.load.frames += 1
        if tap.on_utterance_end is not None and not tap.utterance_told:
            end_ms = tap.detector.first_utterance_end_ms
            if end_ms is not None:
                tap.utterance_told = True
                tap.on_utterance_end(end_ms)
        if decision is not None:
            if not tap.decided:
                self._keep_timing(tap, decision.at_ms)
            tap.decided = True
            tap.on_verdict(decision.verdict, decision.cause, decision.at_ms)
        if tap.decided and not tap.finished_told and tap.detector.finished:
            tap.finished_told = True
            if tap.on_finished is not None:
                tap.on_finished()

    def _keep_timing(self, tap: Tap, decided_ms: int) -> None:
        features = tap.detector.features()
        onset = None if features.first_utterance_ms is None else features.initial_silence_ms
        end = None if onset is None else onset + (features.first_utterance_ms or 0)
        tap.timing = dataclasses.replace(
            tap.timing, onset_ms=onset, utterance_end_ms=end,
            speech_end_ms=tap.detector.last_speech_end_ms, decided_ms=decided_ms,
            decided=time.time(),
        )  # fmt: skip
        self.timings[tap.channel_id] = tap.timing
        while len(self.timings) > TIMINGS_KEPT:
            self.timings.popitem(last=False)

    def _no_audio(self, tap: Tap) -> None:
        if tap.stopped or tap.decided:
            return
        log.warning(
            "call %s: the detector heard %d frames and did not decide: NOTSURE",
            tap.channel_id,
            tap.frames,
        )
        tap.decided = True
        tap.on_verdict("NOTSURE", "NOAUDIO", tap.frames * 20)

    async def stop(self, channel_id: str) -> None:
        """Stop listening to the call and remove its tap from the PBX (idempotent)."""
        tap = self.taps.pop(channel_id, None)
        if tap is None:
            return
        tap.stopped = True
        if tap.timer is not None:
            tap.timer.cancel()
        async with tap.lock:
            await self._remove(tap)

    async def _remove(self, tap: Tap) -> None:
        if tap.source is not None:
            self.receiver.forget(tap.source)
        snoop_id, media_id, bridge_id = tap_ids(tap.channel_id)
        for channel in (snoop_id, media_id):
            with contextlib.suppress(AriNotFound):
                await self.ari.hangup(channel)
        with contextlib.suppress(AriNotFound):
            await self.ari.destroy_bridge(bridge_id)

    async def sweep(self) -> int:
        """Remove taps left on the PBX that no call here owns (an earlier engine's, or ones
        whose stop failed while the PBX was away); returns how many channels and bridges."""
        owned = {i for tap in self.taps.values() for i in tap_ids(tap.channel_id)}
        removed = 0
        for channel in await self.ari.list_channels():
            if _stray(channel, owned):
                with contextlib.suppress(AriNotFound):
                    await self.ari.hangup(str(channel["id"]))
                removed += 1
        for bridge in await self.ari.list_bridges():
            if _stray(bridge, owned):
                with contextlib.suppress(AriNotFound):
                    await self.ari.destroy_bridge(str(bridge["id"]))
                removed += 1
        if removed:
            log.warning("removed %d answering-machine taps no call owned", removed)
        return removed

    async def close(self) -> None:
        """Remove every tap (the engine is stopping)."""
        for channel_id in list(self.taps):
            with contextlib.suppress(AriError):
                await self.stop(channel_id)


@contextlib.asynccontextmanager
async def rtp_receiver(host: str = "127.0.0.1") -> AsyncIterator[RtpReceiver]:
    """The engine's RTP receiver on a free port of ``host`` (amd.listen_address: loopback when
    the dialer PBX runs on this machine), closed on exit. Raises SetupError naming the
    setting when this machine has no such address."""
    try:
        receiver = await RtpReceiver.bound(host)
    except OSError as error:
        raise SetupError(
            f"cannot listen for the streaming detector's audio on {host} ({error.strerror}): "
            "set amd.listen_address (PHONEBANK_AMD_LISTEN_ADDRESS) to an address of this "
            "machine the dialer PBX reaches"
        ) from error
    try:
        yield receiver
    finally:
        receiver.close()


def _stray(item: Json, owned: set[str]) -> bool:
    item_id = str(item.get("id", ""))
    return item_id.startswith(TAP_PREFIX) and item_id not in owned
