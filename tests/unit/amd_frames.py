"""Recorded frames for the streaming detector's tests: tones, silence and noise made with
numpy, speech spoken by espeak-ng and converted by sox to 8 kHz signed 16-bit PCM."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable

import numpy as np

from engine.amd.detector import FRAME_BYTES, Decision, StreamingDetector

RATE = 8000


def tone(hz: float, ms: int, level: float = 0.3) -> bytes:
    n = np.arange(RATE * ms // 1000)
    return (level * 32767 * np.sin(2 * np.pi * hz * n / RATE)).astype("<i2").tobytes()


def silence(ms: int) -> bytes:
    return bytes(2 * (RATE * ms // 1000))


def noise(ms: int, level: float = 0.02, seed: int = 7) -> bytes:
    samples = np.random.default_rng(seed).normal(0.0, level * 32767, RATE * ms // 1000)
    return samples.clip(-32768, 32767).astype("<i2").tobytes()


def speech(text: str, voice: str = "en-us+m3", wpm: int = 170) -> bytes:
    """``text`` spoken by espeak-ng at 8 kHz, trimmed of espeak's leading and trailing
    silence and peak-normalised to -3 dBFS like the test bed's voices."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(wpm), "--stdout", "--", text],
        capture_output=True,
        check=True,
    ).stdout
    trim = ["silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse"]
    pcm = subprocess.run(
        [
            *(
                "sox",
                "-t",
                "wav",
                "-",
                "-r",
                str(RATE),
                "-c",
                "1",
                "-b",
                "16",
                "-e",
                "signed-integer",
            ),
            *("-t", "raw", "-", "norm", "-3", *trim),
        ],
        input=wav,
        capture_output=True,
        check=True,
    ).stdout
    return pcm[: len(pcm) - len(pcm) % 2]


def ms_of(pcm: bytes) -> int:
    return len(pcm) * 1000 // (2 * RATE)


def frames(pcm: bytes) -> Iterable[bytes]:
    pcm += bytes(-len(pcm) % FRAME_BYTES)
    for start in range(0, len(pcm), FRAME_BYTES):
        yield pcm[start : start + FRAME_BYTES]


def decisions(detector: StreamingDetector, pcm: bytes) -> list[Decision]:
    """Every Decision the detector returns over ``pcm``."""
    return [d for frame in frames(pcm) if (d := detector.feed(frame)) is not None]


def mixed(voice: bytes, background: bytes, level: float) -> bytes:
    """``background`` (looped) at ``level`` under ``voice``."""
    v = np.frombuffer(voice, dtype="<i2").astype(np.float64)
    b = np.frombuffer(background, dtype="<i2").astype(np.float64)
    under = np.tile(b, len(v) // len(b) + 1)[: len(v)]
    return (v + level * under).clip(-32768, 32767).astype("<i2").tobytes()
