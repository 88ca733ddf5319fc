"""The streaming detector's thresholds: defaults, a table from a campaign or config file, and
refusals that name the key."""

from __future__ import annotations

import pytest

from engine.amd.detector import StreamingAmdSettings
from engine.errors import ConfigError


def test_the_defaults_are_valid_and_documented_values() -> None:
    s = StreamingAmdSettings()
    assert s.utterance_end_ms <= s.human_pause_ms < s.long_greeting_ms < s.max_analysis_ms


def test_a_table_sets_the_named_thresholds() -> None:
    table = {"human_pause_ms": 500, "vad": "energy", "tone_purity": 1}
    s = StreamingAmdSettings.from_mapping(table)
    assert (s.human_pause_ms, s.vad, s.tone_purity) == (500, "energy", 1.0)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"human_pause": 500}, "unknown setting(s) human_pause"),
        ({"human_pause_ms": 0.5}, "amd.human_pause_ms: expected whole milliseconds"),
        ({"human_pause_ms": True}, "amd.human_pause_ms: expected a number"),
        ({"vad": 3}, "amd.vad: expected a name"),
        ({"vad": "whisper"}, "vad must be one of webrtc, silero, energy"),
        ({"vad_mode": 4}, "vad_mode must be 0-3"),
        ({"human_pause_ms": 100, "utterance_end_ms": 300}, "utterance_end_ms must not exceed"),
        ({"long_greeting_ms": 9000}, "must be below max_analysis_ms"),
        ({"tone_low_hz": 3000.0}, "tone_low_hz < tone_high_hz"),
        ({"speech_floor_dbfs": 3}, "speech_floor_dbfs must be below 0 dBFS"),
        ({"retract_ms": -1}, "retract_ms must be 0 or more"),
        ({"silence_human_ms": 5000}, "silence_human_ms must be 0 (off) or below max_analysis_ms"),
        ({"silence_human_ms": -20}, "silence_human_ms must be 0 (off) or below max_analysis_ms"),
        ({"human_deadline_ms": 5000}, "human_deadline_ms must be 0 (off) or below max_analysis_ms"),
        ({"human_deadline_ms": -1}, "human_deadline_ms must be 0 (off) or below max_analysis_ms"),
        ({"short_greeting_ms": 2500}, "short_greeting_ms must be 0 (off) or below"),
        ({"short_pause_ms": 600}, "short_pause_ms must be positive and at most human_pause_ms"),
    ],
)
def test_a_bad_value_is_refused_with_its_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=None) as refused:
        StreamingAmdSettings.from_mapping(table)
    assert message in str(refused.value)
