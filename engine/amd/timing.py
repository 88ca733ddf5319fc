"""Where the time from answer to verdict goes on one streamed call, and what the detectors cost.

`TapTiming` is what the engine's tap records of a call (engine/calls/listening.py): wall-clock
stamps of the tap's start, of the tap made on the PBX and of the first audio frame, and, from the
detector, the audio times of the first speech, the end of the first utterance and the decision.
`segments` adds the answer stamp and the bridge time (from the attempt) and cuts the whole into
consecutive segments whose sum is answer → bridged (bench/amd_accuracy.py prints percentiles of
each). `DetectorLoad` adds up the detectors' CPU against the audio they were fed.
"""

from __future__ import annotations

from dataclasses import dataclass

SEGMENTS = (
    "answer → tap start",
    "tap start → tap made",
    "tap made → first frame",
    "first frame → speech onset",
    "speech onset → end of first utterance",
    "end of first utterance → last speech",
    "last speech → decision",
    "decision → verdict stored",
    "verdict → bridged",
)
"""The segments of answer → bridged, in order; the audio ones are audio time."""


@dataclass(frozen=True, slots=True)
class TapTiming:
    channel_id: str
    started: float
    """Wall clock (s): the engine's listen job began making the tap."""
    made: float | None = None
    """Wall clock: the tap's channels were in their bridge."""
    first_frame: float | None = None
    """Wall clock: the first 20 ms frame reached the detector."""
    onset_ms: int | None = None
    """Audio time (since the first frame) of the first utterance's first speech."""
    utterance_end_ms: int | None = None
    """Audio time of the first utterance's last speech."""
    speech_end_ms: int | None = None
    """Audio time of the last speech before the decision (the greeting's end for HUMAN)."""
    decided_ms: int | None = None
    """Audio time of the end of the deciding frame."""
    decided: float | None = None
    """Wall clock: the detector returned its first decision."""

    def segments(self, answered: float, verdict: float, bridged: float) -> list[float] | None:
        """Seconds of each of SEGMENTS for a call answered, given its verdict and bridged at
        these wall-clock times; None when a stamp is missing (no speech heard, no frame). The
        audio segments are placed on the wall clock from the first frame, and "decision →
        verdict stored" is what the wall clock adds after the deciding frame's audio time
        (transport, the event loop, the owner's job)."""
        if (
            self.made is None
            or self.first_frame is None
            or self.onset_ms is None
            or self.utterance_end_ms is None
            or self.speech_end_ms is None
            or self.decided_ms is None
        ):
            return None
        audio_decided = self.first_frame + self.decided_ms / 1000
        return [
            self.started - answered,
            self.made - self.started,
            self.first_frame - self.made,
            self.onset_ms / 1000,
            (self.utterance_end_ms - self.onset_ms) / 1000,
            (self.speech_end_ms - self.utterance_end_ms) / 1000,
            (self.decided_ms - self.speech_end_ms) / 1000,
            verdict - audio_decided,
            bridged - verdict,
        ]


@dataclass(slots=True)
class DetectorLoad:
    """The detectors' CPU (their thread's time inside `feed`) and the audio they were fed."""

    frames: int = 0
    cpu_s: float = 0.0

    @property
    def audio_s(self) -> float:
        return self.frames * 0.020

    def cpu_ms_per_call_second(self) -> float:
        """CPU ms per second of one call's audio (nan before any frame)."""
        return 1000.0 * self.cpu_s / self.audio_s if self.frames else float("nan")

    def minus(self, earlier: DetectorLoad) -> DetectorLoad:
        return DetectorLoad(self.frames - earlier.frames, self.cpu_s - earlier.cpu_s)
