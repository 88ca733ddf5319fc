"""The streaming detector's tone finder on exact frequencies: beeps, special-information
tones, and speech that must not pass for a tone."""

from __future__ import annotations

import numpy as np
import pytest

from engine.amd.tones import SIT_HZ, ToneBank, ToneTracker, tone_kind
from tests.unit.amd_frames import RATE


def sine(hz: float, phase: float = 0.0) -> np.ndarray:
    n = np.arange(160)
    return 8000.0 * np.sin(2 * np.pi * hz * n / RATE + phase)


@pytest.mark.parametrize("hz", [400.0, 440.0, 913.8, 950.0, 1000.0, 1370.6, 1776.7, 2000.0])
def test_a_pure_tone_is_found_within_two_hertz_and_nearly_pure(hz: float) -> None:
    found = ToneBank(160, 300.0, 2500.0).strongest(sine(hz, phase=0.7))
    assert abs(found.hz - hz) < 2.0
    assert found.purity > 0.9


def test_two_tones_at_once_are_not_pure() -> None:
    found = ToneBank(160, 300.0, 2500.0).strongest(sine(700.0) + sine(1300.0))
    assert found.purity < 0.6


def test_white_noise_is_not_pure() -> None:
    samples = np.random.default_rng(1).normal(0.0, 3000.0, 160)
    assert ToneBank(160, 300.0, 2500.0).strongest(samples).purity < 0.3


@pytest.mark.parametrize("hz", SIT_HZ)
def test_each_special_information_frequency_is_a_sit(hz: float) -> None:
    assert tone_kind(hz + 3.0, 8.0) == "SIT"


@pytest.mark.parametrize("hz", [950.0, 1000.0, 1400.0, 440.0])
def test_common_answering_machine_beeps_are_beeps(hz: float) -> None:
    assert tone_kind(hz, 8.0) == "BEEP"


def test_a_tone_is_reported_once_after_enough_steady_frames() -> None:
    bank, tracker = ToneBank(160, 300.0, 2500.0), ToneTracker(7, 8.0)
    reports = [tracker.push(bank.strongest(sine(1000.0, i * 0.3)), i * 20) for i in range(20)]
    found = [r for r in reports if r is not None]
    assert len(found) == 1
    assert reports.index(found[0]) == 6
    assert found[0].kind == "BEEP" and abs(found[0].hz - 1000.0) < 2 and found[0].start_ms == 0


def test_a_frequency_jump_starts_a_new_tone() -> None:
    bank, tracker = ToneBank(160, 300.0, 2500.0), ToneTracker(7, 8.0)
    for i in range(5):
        assert tracker.push(bank.strongest(sine(913.8)), i * 20) is None
    reports = [tracker.push(bank.strongest(sine(1370.6)), 100 + i * 20) for i in range(7)]
    assert reports[-1] is not None and reports[-1].start_ms == 100
    assert reports[-1].kind == "SIT"
