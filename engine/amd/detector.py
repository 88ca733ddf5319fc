"""The streaming answering-machine detector: one 20 ms frame at a time, a verdict as soon as
the evidence is enough.

Per frame: the level, a pure-tone check (beeps, special-information tones; engine/amd/tones.py),
and a voice-activity flag (engine/amd/vad.py) feed the greeting's timing
(engine/amd/greeting.py). Then, in this order:

- a tone of ``tone_min_ms`` → MACHINE (cause BEEP, or SIT for announcement tones);
- a greeting longer than ``long_greeting_ms`` → MACHINE (LONGGREETING);
- a greeting followed by ``human_pause_ms`` of silence (and no tone under way) → HUMAN
  (GREETING), or by only ``short_pause_ms`` if it lasted at most ``short_greeting_ms`` (a word
  or two: "Hello?") → HUMAN (SHORTGREETING);
- nobody has spoken by ``silence_human_ms`` → HUMAN (SILENCE: a person waiting for the caller
  to speak first);
- nothing decided by ``max_analysis_ms`` → NOTSURE (INITIALSILENCE if nobody spoke, else
  TOOLONG); a greeting under way then is heard out first (at most ``long_greeting_ms`` more:
  it ends as a person's, or grows into a machine's).

After HUMAN the detector keeps listening for ``retract_ms`` and returns MACHINE once more
(a retraction: cause BEEP, SIT, or MANYWORDS when ``retract_speech_ms`` of speech follows: a
person who has greeted waits for the caller, a machine reads on) — what early connect uses to
take the volunteer back out. A greeting's length alone does not retract: a person's greeting
with short pauses in it may run past ``long_greeting_ms`` with little speech after the
verdict. After a SILENCE verdict the volunteer is talking to the line, so a person's answer
is no machine: only a tone or a long greeting retracts, for ``retract_ms`` from the first
speech.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from engine.amd.greeting import GreetingFeatures, GreetingRules, GreetingTimeline
from engine.amd.settings import StreamingAmdSettings
from engine.amd.tones import Tone, ToneBank, ToneTracker
from engine.amd.vad import make_vad

__all__ = [
    "FRAME_BYTES",
    "FRAME_MS",
    "Decision",
    "GreetingFeatures",
    "StreamingAmdSettings",
    "StreamingDetector",
    "Verdict",
]

FRAME_MS = 20
FRAME_BYTES = 320
"""8 kHz, signed 16-bit little-endian mono PCM: 160 samples per frame."""
FULL_SCALE = 32768.0
SPEECH_LEVEL_DECAY_DB = 0.05
"""The speaker's level is the loudest speech frame heard, falling this much per speech frame
(2.5 dB per second of speech) so that it follows a voice that grows quieter."""
SPEECH_TAIL_MS = 120
"""After a frame at the speaker's level, quieter speech frames still count for this long: the
fading end of a word is not yet the pause after it."""

Verdict = Literal["HUMAN", "MACHINE", "NOTSURE"]


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    cause: str
    at_ms: int
    """Audio time since answer when the verdict was reached (end of the deciding frame)."""


DEFAULT_SETTINGS = StreamingAmdSettings()


def listening_after_human_ms(settings: StreamingAmdSettings, cause: str, at_ms: int) -> int:
    """How long after a HUMAN verdict (reached at ``at_ms`` for ``cause``) the detector may
    still retract it: ``retract_ms``, or after SILENCE up to ``retract_ms`` past the first
    speech, which may come as late as ``max_analysis_ms``."""
    if settings.retract_ms == 0:
        return 0
    if cause == "SILENCE":
        return settings.max_analysis_ms + settings.retract_ms - at_ms
    return settings.retract_ms


def _frames(ms: int) -> int:
    return max(1, -(-ms // FRAME_MS))


class StreamingDetector:
    """Feed every frame of the answered call, in order, from the moment of answer."""

    def __init__(self, settings: StreamingAmdSettings = DEFAULT_SETTINGS) -> None:
        self._settings = settings
        self._vad = make_vad(settings)
        self._bank = ToneBank(FRAME_BYTES // 2, settings.tone_low_hz, settings.tone_high_hz)
        self._tones = ToneTracker(_frames(settings.tone_min_ms), settings.sit_tolerance_hz)
        self._timeline = GreetingTimeline(
            GreetingRules(
                FRAME_MS,
                settings.min_speech_ms,
                settings.utterance_end_ms,
                settings.human_pause_ms,
            )
        )
        self._speech_dbfs: float | None = None
        """The speaker's level: the peak of their speech frames, slowly falling."""
        self._since_loud_ms = SPEECH_TAIL_MS
        self._first: Decision | None = None
        self._speech_at_first_ms = 0
        self._deadline_greeting: int | None = None
        """After a DEADLINE verdict, the start of the greeting it interrupted, while that
        greeting goes on (it retracts if it grows too long; words after it are counted)."""
        self._done = False

    @property
    def first_utterance_end_ms(self) -> int | None:
        """Audio time the first utterance ended (its last speech), known ``utterance_end_ms``
        later; None until then, and None if the first verdict is MACHINE (a greeting too long
        for a person, a beep, SIT)."""
        end = self._timeline.first_utterance_end_ms
        if end is None or (self._first is not None and self._first.verdict == "MACHINE"):
            return None
        return end

    @property
    def last_speech_end_ms(self) -> int | None:
        """Audio time the latest speech heard ended (None before any utterance)."""
        return self._timeline.last_speech_end_ms

    @property
    def decision(self) -> Decision | None:
        """The first verdict, once reached."""
        return self._first

    def features(self) -> GreetingFeatures:
        """The timing evidence so far: initial silence, the first utterance and the pause after
        it, total speech, utterances (log it with the verdict)."""
        return self._timeline.features()

    @property
    def finished(self) -> bool:
        """Nothing more will be decided: the audio tap can stop."""
        return self._done

    def feed(self, frame: bytes) -> Decision | None:
        """Take the next frame; return a Decision when one is reached (the first verdict, or a
        retraction to MACHINE after HUMAN), else None.

        Raises ValueError for a frame that is not FRAME_BYTES long.
        """
        if len(frame) != FRAME_BYTES:
            raise ValueError(f"a frame is {FRAME_BYTES} bytes (20 ms at 8 kHz), not {len(frame)}")
        if self._done:
            return None
        at_ms = self._timeline.now_ms
        tone, speech = self._features(frame, at_ms)
        self._timeline.push(speech)
        decision = self._retraction(tone) if self._first else self._first_verdict(tone)
        if decision is not None:
            if self._first is None:
                self._speech_at_first_ms = self._timeline.total_speech_ms
                if decision.cause == "DEADLINE":
                    self._deadline_greeting = self._timeline.greeting_start_ms
            self._first = self._first or decision
            self._done = decision.verdict != "HUMAN" or self._settings.retract_ms == 0
        elif self._first is not None and self._listened_after_human():
            self._done = True
        return decision

    def _features(self, frame: bytes, at_ms: int) -> tuple[Tone | None, bool]:
        s = self._settings
        samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
        rms = float(np.sqrt(np.mean(samples * samples)))
        dbfs = 20.0 * np.log10(rms / FULL_SCALE) if rms > 0 else -120.0
        tonal = None
        if dbfs >= s.tone_min_dbfs:
            frame_tone = self._bank.strongest(samples)
            tonal = frame_tone if frame_tone.purity >= s.tone_purity else None
        tone = self._tones.push(tonal, at_ms)
        return tone, tonal is None and self._is_speech(frame, dbfs)

    def _is_speech(self, frame: bytes, dbfs: float) -> bool:
        """Speech by the VAD, above the floor, and loud for this speaker — or in the soft tail
        (``SPEECH_TAIL_MS``) of their last loud frame."""
        s, level = self._settings, self._speech_dbfs
        if dbfs < s.speech_floor_dbfs:
            self._since_loud_ms += FRAME_MS
            return False
        loud = level is None or dbfs >= level - s.quiet_below_speech_db
        if not loud and self._since_loud_ms >= SPEECH_TAIL_MS:
            self._since_loud_ms += FRAME_MS
            return False
        if not self._vad.is_speech(frame):
            self._since_loud_ms += FRAME_MS
            return False
        if loud:
            self._since_loud_ms = 0
            self._speech_dbfs = dbfs if level is None else max(dbfs, level - SPEECH_LEVEL_DECAY_DB)
        else:
            self._since_loud_ms += FRAME_MS
        return True

    def _first_verdict(self, tone: Tone | None) -> Decision | None:
        s, t = self._settings, self._timeline
        if tone is not None:
            return Decision("MACHINE", tone.kind, t.now_ms)
        if t.greeting_ms > s.long_greeting_ms:
            return Decision("MACHINE", "LONGGREETING", t.now_ms)
        if self._tones.in_tone:
            return None
        if t.greetings_ended:
            return Decision("HUMAN", "GREETING", t.now_ms)
        if 0 < t.greeting_ms <= s.short_greeting_ms and t.silence_ms >= s.short_pause_ms:
            return Decision("HUMAN", "SHORTGREETING", t.now_ms)
        if 0 < s.silence_human_ms <= t.now_ms and t.first_onset_ms is None and not t.speaking:
            return Decision("HUMAN", "SILENCE", t.now_ms)
        if 0 < s.human_deadline_ms <= t.now_ms and t.first_onset_ms is not None:
            return Decision("HUMAN", "DEADLINE", t.now_ms)
        hearing_out = t.greeting_start_ms is not None and t.now_ms < s.max_analysis_ms + (
            s.long_greeting_ms
        )
        if t.now_ms >= s.max_analysis_ms and not hearing_out:
            cause = "INITIALSILENCE" if t.first_onset_ms is None else "TOOLONG"
            return Decision("NOTSURE", cause, t.now_ms)
        return None

    def _retraction(self, tone: Tone | None) -> Decision | None:
        s, t = self._settings, self._timeline
        if tone is not None:
            return Decision("MACHINE", tone.kind, t.now_ms)
        if self._after_silence:
            if t.greeting_ms > s.long_greeting_ms:
                return Decision("MACHINE", "LONGGREETING", t.now_ms)
            return None
        if self._deadline_greeting is not None:
            if t.greeting_start_ms != self._deadline_greeting:
                self._deadline_greeting = None  # it ended as a person's: words count from here
            elif t.greeting_ms > s.long_greeting_ms:
                return Decision("MACHINE", "LONGGREETING", t.now_ms)
            else:
                self._speech_at_first_ms = t.total_speech_ms
                return None
        if t.total_speech_ms - self._speech_at_first_ms >= s.retract_speech_ms:
            return Decision("MACHINE", "MANYWORDS", t.now_ms)
        return None

    @property
    def _after_silence(self) -> bool:
        return self._first is not None and self._first.cause == "SILENCE"

    def _listened_after_human(self) -> bool:
        assert self._first is not None
        s, t = self._settings, self._timeline
        if not self._after_silence:
            return t.now_ms >= self._first.at_ms + s.retract_ms
        if t.first_onset_ms is None:
            return t.now_ms >= s.max_analysis_ms
        return t.now_ms >= t.first_onset_ms + s.retract_ms
