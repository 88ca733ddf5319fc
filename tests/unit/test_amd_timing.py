"""Where the time from answer to bridge goes on a streamed call, and the detectors' CPU."""

from __future__ import annotations

import math

import pytest

from engine.amd.timing import SEGMENTS, DetectorLoad, TapTiming


def test_segments_add_up_to_answer_to_bridged() -> None:
    timing = TapTiming(
        "ch", started=100.05, made=100.06, first_frame=100.10, onset_ms=200,
        utterance_end_ms=700, speech_end_ms=1100, decided_ms=1600, decided=101.705,
    )  # fmt: skip
    segments = timing.segments(answered=100.0, verdict=101.72, bridged=101.725)
    assert segments is not None and len(segments) == len(SEGMENTS)
    assert segments == pytest.approx([0.05, 0.01, 0.04, 0.2, 0.5, 0.4, 0.5, 0.02, 0.005])
    assert sum(segments) == pytest.approx(101.725 - 100.0)


def test_no_segments_without_speech_or_audio() -> None:
    assert TapTiming("ch", 1.0, made=1.1, first_frame=1.2).segments(0.5, 3.0, 3.1) is None
    assert TapTiming("ch", 1.0, made=1.1).segments(0.5, 3.0, 3.1) is None


def test_detector_load_per_call_second() -> None:
    load = DetectorLoad(frames=5000, cpu_s=0.07)  # 100 s of audio
    assert load.audio_s == pytest.approx(100.0)
    assert load.cpu_ms_per_call_second() == pytest.approx(0.7)
    since = load.minus(DetectorLoad(1000, 0.02))
    assert since.frames == 4000 and since.cpu_s == pytest.approx(0.05)
    assert math.isnan(DetectorLoad().cpu_ms_per_call_second())
