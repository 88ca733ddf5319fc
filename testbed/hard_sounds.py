"""The sounds around the harder evaluation set's speech, made with numpy at 8 kHz as floats in
[-1, 1]: beeps, special-information tones, a cough, music, street noise, and TV (speech
looped under the greeting). Deterministic: each takes its own random generator."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

RATE = 8000
Audio = npt.NDArray[np.float64]

SIT_SEGMENTS = {
    # (frequency Hz, seconds) of the three segments (ANSI T1.209 / ITU-T E.180).
    "sit-low": ((913.8, 0.274), (1370.6, 0.274), (1776.7, 0.380)),
    "sit-high": ((985.2, 0.380), (1428.5, 0.380), (1776.7, 0.380)),
}


def silence(seconds: float) -> Audio:
    return np.zeros(round(seconds * RATE))


def tone(hz: float, seconds: float, level: float = 0.5) -> Audio:
    n = np.arange(round(seconds * RATE))
    ramp = np.minimum(1.0, np.minimum(n, n[::-1]) / (0.005 * RATE))
    return level * ramp * np.sin(2 * np.pi * hz * n / RATE)


def sit(name: str) -> Audio:
    """The three tones of a special-information tone, then 0.3 s before the announcement."""
    return np.concatenate([*(tone(hz, s, 0.3) for hz, s in SIT_SEGMENTS[name]), silence(0.3)])


def cough(rng: np.random.Generator) -> Audio:
    """One or two bursts of band-limited noise with a sharp start and a fast decay."""
    parts = []
    for _ in range(int(rng.integers(1, 3))):
        seconds = float(rng.uniform(0.18, 0.3))
        n = np.arange(int(seconds * RATE))
        burst = _band(rng.normal(0.0, 1.0, len(n)), 300.0, 2500.0)
        envelope = np.minimum(1.0, n / (0.01 * RATE)) * np.exp(-n / (0.08 * RATE))
        parts += [0.6 * burst * envelope / np.max(np.abs(burst)), silence(0.12)]
    return np.concatenate(parts)


def music(seconds: float, rng: np.random.Generator) -> Audio:
    """Chords of three plucked notes, a new chord every 0.4 s."""
    chord_s = 0.4
    out = []
    scale = [261.6, 293.7, 329.6, 349.2, 392.0, 440.0, 493.9]
    n = np.arange(int(chord_s * RATE))
    for _ in range(int(np.ceil(seconds / chord_s))):
        chord = np.zeros(len(n))
        for root in rng.choice(scale, size=3, replace=False):
            for harmonic, weight in ((1, 1.0), (2, 0.5), (3, 0.25)):
                chord += weight * np.sin(2 * np.pi * root * harmonic * n / RATE)
        out.append(chord * np.exp(-n / (0.25 * RATE)))
    audio: Audio = np.concatenate(out)[: int(seconds * RATE)]
    return _peak(audio, 0.5)


def street(seconds: float, rng: np.random.Generator) -> Audio:
    """Traffic: low rumble (brown noise) swelling as cars pass, with a hiss above it."""
    count = int(seconds * RATE)
    rumble = np.cumsum(rng.normal(0.0, 1.0, count))
    rumble = _band(rumble - np.mean(rumble), 60.0, 1200.0)
    hiss = _band(rng.normal(0.0, 1.0, count), 1000.0, 3500.0)
    t = np.arange(count) / RATE
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * t / float(rng.uniform(2.5, 4.0)))
    return _peak(_peak(rumble, 1.0) * swell + _peak(hiss, 0.3), 0.5)


def looped(audio: Audio, seconds: float) -> Audio:
    """``audio`` repeated to ``seconds`` (TV: a newsreader under the greeting)."""
    count = int(seconds * RATE)
    return np.tile(audio, count // len(audio) + 1)[:count]


def _peak(audio: Audio, level: float) -> Audio:
    """``audio`` scaled so that its peak is ``level``."""
    scaled: Audio = level * audio / float(np.max(np.abs(audio)))
    return scaled


def _band(signal: Audio, low_hz: float, high_hz: float) -> Audio:
    spectrum = np.fft.rfft(signal)
    hz = np.fft.rfftfreq(len(signal), 1.0 / RATE)
    spectrum[(hz < low_hz) | (hz > high_hz)] = 0.0
    return np.fft.irfft(spectrum, len(signal))
