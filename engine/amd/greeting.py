"""Timing features of what the answering side says, from one speech/silence flag per frame.

An utterance starts with ``min_speech_ms`` of speech and ends after ``utterance_end_ms`` of
silence; a greeting is the speech from an utterance's start until a pause of
``human_pause_ms`` (shorter gaps, between words and phrases, stay inside it). All times are
audio time since answer, in ms.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GreetingRules:
    frame_ms: int
    min_speech_ms: int
    utterance_end_ms: int
    human_pause_ms: int


@dataclass(frozen=True)
class GreetingFeatures:
    """The timing evidence so far (ms of audio time), for logs and for the decision."""

    initial_silence_ms: int
    first_utterance_ms: int | None
    """Length of the first utterance, once it has ended."""
    pause_after_first_ms: int | None
    """Silence after the first utterance: until the second began, or until now."""
    total_speech_ms: int
    utterances: int


class GreetingTimeline:
    def __init__(self, rules: GreetingRules) -> None:
        self._rules = rules
        self.now_ms = 0
        """Audio time at the end of the last frame pushed."""
        self.total_speech_ms = 0
        self.utterances = 0
        self.first_onset_ms: int | None = None
        self.first_utterance_end_ms: int | None = None
        self.second_onset_ms: int | None = None
        self.greeting_start_ms: int | None = None
        """Start of the greeting under way, or None while in a pause of ``human_pause_ms``."""
        self.last_speech_end_ms: int | None = None
        self.greetings_ended = 0
        self._speech_run_ms = 0
        self._silence_run_ms = 0
        self._in_utterance = False

    @property
    def initial_silence_ms(self) -> int:
        return self.now_ms if self.first_onset_ms is None else self.first_onset_ms

    @property
    def speaking(self) -> bool:
        """Speech in the last frame (an utterance under way, or a burst that may start one)."""
        return self._speech_run_ms > 0

    @property
    def silence_ms(self) -> int:
        """Silence since the last speech (0 while speaking)."""
        return self._silence_run_ms

    @property
    def greeting_ms(self) -> int:
        """Length of the greeting under way (first speech to last speech), 0 if none."""
        if self.greeting_start_ms is None or self.last_speech_end_ms is None:
            return 0
        return self.last_speech_end_ms - self.greeting_start_ms

    def features(self) -> GreetingFeatures:
        first, end = self.first_onset_ms, self.first_utterance_end_ms
        pause = None
        if end is not None:
            pause = (self.now_ms if self.second_onset_ms is None else self.second_onset_ms) - end
        return GreetingFeatures(
            initial_silence_ms=self.initial_silence_ms,
            first_utterance_ms=None if first is None or end is None else end - first,
            pause_after_first_ms=pause,
            total_speech_ms=self.total_speech_ms,
            utterances=self.utterances,
        )

    def push(self, speech: bool) -> None:
        frame_ms = self._rules.frame_ms
        start_ms = self.now_ms
        self.now_ms += frame_ms
        if speech:
            self._on_speech(start_ms, frame_ms)
        else:
            self._on_silence()

    def _on_speech(self, start_ms: int, frame_ms: int) -> None:
        self._speech_run_ms += frame_ms
        self._silence_run_ms = 0 if self._in_utterance else self._silence_run_ms + frame_ms
        if not self._in_utterance and self._speech_run_ms >= self._rules.min_speech_ms:
            onset = start_ms + frame_ms - self._speech_run_ms
            self._in_utterance = True
            self.utterances += 1
            self.total_speech_ms += self._speech_run_ms
            self._silence_run_ms = 0
            if self.first_onset_ms is None:
                self.first_onset_ms = onset
            elif self.second_onset_ms is None:
                self.second_onset_ms = onset
            if self.greeting_start_ms is None:
                self.greeting_start_ms = onset
        elif self._in_utterance:
            self.total_speech_ms += frame_ms
        if self._in_utterance:
            self.last_speech_end_ms = self.now_ms

    def _on_silence(self) -> None:
        self._speech_run_ms = 0
        self._silence_run_ms += self._rules.frame_ms
        rules = self._rules
        if self._in_utterance and self._silence_run_ms >= rules.utterance_end_ms:
            self._in_utterance = False
            if self.first_utterance_end_ms is None:
                self.first_utterance_end_ms = self.last_speech_end_ms
        if (
            self.greeting_start_ms is not None
            and not self._in_utterance
            and self._silence_run_ms >= rules.human_pause_ms
        ):
            self.greeting_start_ms = None
            self.greetings_ended += 1
