"""The streaming detector's verdicts and their timing, on recorded frames: espeak-ng speech,
tones, silence and noise."""

from __future__ import annotations

import numpy as np
import pytest

from engine.amd.detector import (
    FRAME_MS,
    SPEECH_TAIL_MS,
    StreamingAmdSettings,
    StreamingDetector,
    listening_after_human_ms,
)
from engine.amd.settings import VadName
from testbed import hard_sounds
from tests.unit.amd_frames import decisions, frames, mixed, ms_of, noise, silence, speech, tone

LEAD_MS = 200
HELLO = speech("Hello?")
LONG = speech(
    "You have reached the Johnson family and we cannot come to the phone right now "
    "so please leave your name and number and a short message after the beep"
)
SETTINGS = StreamingAmdSettings()
SLACK_MS = 3 * FRAME_MS
"""How far a verdict may trail its threshold: the VAD's hangover after the last syllable."""
ONSET_SLACK_MS = 5 * FRAME_MS
"""How late the first syllable may be heard (a soft "H" under the level floor)."""


@pytest.mark.parametrize("vad", ["webrtc", "silero", "energy"])
def test_a_greeting_then_silence_is_human_a_pause_after_it(vad: VadName) -> None:
    greeting = speech("Hello, this is Maria.")
    detector = StreamingDetector(StreamingAmdSettings(vad=vad))
    found = decisions(detector, silence(LEAD_MS) + greeting + silence(3000))
    assert [(d.verdict, d.cause) for d in found] == [("HUMAN", "GREETING")]
    after_pause = LEAD_MS + ms_of(greeting) + SETTINGS.human_pause_ms
    assert after_pause - SLACK_MS <= found[0].at_ms <= after_pause + SLACK_MS


@pytest.mark.parametrize("vad", ["webrtc", "silero", "energy"])
def test_a_word_or_two_then_silence_is_human_after_a_shorter_pause(vad: VadName) -> None:
    detector = StreamingDetector(StreamingAmdSettings(vad=vad))
    found = decisions(detector, silence(LEAD_MS) + HELLO + silence(3000))
    assert [(d.verdict, d.cause) for d in found] == [("HUMAN", "SHORTGREETING")]
    after_pause = LEAD_MS + ms_of(HELLO) + SETTINGS.short_pause_ms
    assert after_pause - SLACK_MS <= found[0].at_ms <= after_pause + SLACK_MS


def test_without_the_short_greeting_rule_a_word_waits_for_the_full_pause() -> None:
    detector = StreamingDetector(StreamingAmdSettings(short_greeting_ms=0))
    found = decisions(detector, silence(LEAD_MS) + HELLO + silence(3000))
    assert [(d.verdict, d.cause) for d in found] == [("HUMAN", "GREETING")]
    after_pause = LEAD_MS + ms_of(HELLO) + SETTINGS.human_pause_ms
    assert after_pause - SLACK_MS <= found[0].at_ms <= after_pause + SLACK_MS


def test_the_end_of_the_first_utterance_is_known_before_the_human_verdict() -> None:
    greeting = speech("Hello, this is Maria.")
    detector = StreamingDetector()
    seen_at = None
    for index, frame in enumerate(frames(silence(LEAD_MS) + greeting + silence(1000))):
        verdict = detector.feed(frame)
        if seen_at is None and detector.first_utterance_end_ms is not None:
            seen_at = (index + 1) * FRAME_MS
        if verdict is not None:
            assert seen_at is not None and seen_at < verdict.at_ms
            break
    end = detector.first_utterance_end_ms
    assert end is not None and abs(end - (LEAD_MS + ms_of(greeting))) <= SLACK_MS
    assert seen_at == pytest.approx(end + SETTINGS.utterance_end_ms, abs=SLACK_MS)


def test_the_timing_features_describe_initial_silence_utterances_and_the_pause() -> None:
    word = speech("Yes?")
    detector = StreamingDetector(StreamingAmdSettings(short_greeting_ms=0))
    decisions(detector, silence(700) + HELLO + silence(900) + word + silence(300))
    features = detector.features()
    assert features.initial_silence_ms == pytest.approx(700, abs=ONSET_SLACK_MS)
    assert features.first_utterance_ms == pytest.approx(ms_of(HELLO), abs=ONSET_SLACK_MS)
    assert features.pause_after_first_ms == pytest.approx(900, abs=ONSET_SLACK_MS)
    assert features.utterances == 2
    spoken = ms_of(HELLO) + ms_of(word)
    assert spoken - 2 * ONSET_SLACK_MS <= features.total_speech_ms <= spoken + SLACK_MS


def test_a_long_greeting_is_a_machine_as_soon_as_it_outlasts_a_person() -> None:
    found = decisions(StreamingDetector(), silence(LEAD_MS) + LONG)
    assert [(d.verdict, d.cause) for d in found] == [("MACHINE", "LONGGREETING")]
    threshold = LEAD_MS + SETTINGS.long_greeting_ms
    assert threshold < found[0].at_ms <= threshold + ONSET_SLACK_MS


def test_a_beep_right_after_a_short_greeting_is_a_machine_not_a_pause() -> None:
    audio = silence(LEAD_MS) + speech("Leave a message.") + silence(300) + tone(1000, 500)
    found = decisions(StreamingDetector(), audio + silence(2000))
    assert [(d.verdict, d.cause) for d in found] == [("MACHINE", "BEEP")]
    beep_start = LEAD_MS + ms_of(speech("Leave a message.")) + 300
    assert found[0].at_ms == pytest.approx(beep_start + SETTINGS.tone_min_ms, abs=SLACK_MS)


def test_special_information_tones_are_a_machine_with_cause_sit() -> None:
    sit = tone(913.8, 274) + tone(1370.6, 274) + tone(1776.7, 380)
    found = decisions(StreamingDetector(), silence(100) + sit + speech("The number you have"))
    assert [(d.verdict, d.cause) for d in found] == [("MACHINE", "SIT")]
    assert found[0].at_ms == pytest.approx(100 + SETTINGS.tone_min_ms, abs=FRAME_MS)


def test_the_high_special_information_tones_are_a_sit_too() -> None:
    sit = tone(985.2, 380) + tone(1428.5, 380) + tone(1776.7, 380)
    found = decisions(StreamingDetector(), silence(200) + sit + silence(3000))
    assert [(d.verdict, d.cause) for d in found] == [("MACHINE", "SIT")]


def test_music_chords_are_not_a_beep() -> None:
    """Three notes at once with their harmonics: no single frequency holds the frame."""
    chords = hard_sounds.music(4.0, np.random.default_rng(3))
    pcm = (chords * 32767).astype("<i2").tobytes()
    found = decisions(StreamingDetector(), pcm + silence(2000))
    assert found and all(d.cause not in ("BEEP", "SIT") for d in found)


def test_a_beep_after_the_human_verdict_retracts_it() -> None:
    audio = silence(LEAD_MS) + HELLO + silence(800) + tone(1000, 400) + silence(1000)
    found = decisions(StreamingDetector(), audio)
    assert [(d.verdict, d.cause) for d in found] == [
        ("HUMAN", "SHORTGREETING"),
        ("MACHINE", "BEEP"),
    ]
    beep_start = LEAD_MS + ms_of(HELLO) + 800
    assert found[1].at_ms == pytest.approx(beep_start + SETTINGS.tone_min_ms, abs=FRAME_MS)


def test_a_greeting_that_pauses_then_reads_on_is_retracted_to_machine() -> None:
    """A person who has said hello waits for the caller; a machine reads on."""
    audio = silence(LEAD_MS) + speech("Hi, this is Carlos.") + silence(600) + LONG
    found = decisions(StreamingDetector(), audio)
    # "Hi," and the comma's pause already make a short greeting.
    assert [(d.verdict, d.cause) for d in found] == [
        ("HUMAN", "SHORTGREETING"),
        ("MACHINE", "MANYWORDS"),
    ]
    # 1.5 s of speech after the verdict takes at least 1.5 s, and the machine's second
    # sentence alone has that much.
    resumed = LEAD_MS + ms_of(speech("Hi, this is Carlos.")) + 600
    assert found[0].at_ms + SETTINGS.retract_speech_ms <= found[1].at_ms
    assert found[1].at_ms <= resumed + SETTINGS.retract_speech_ms + SLACK_MS


def test_a_person_whose_greeting_pauses_past_the_long_greeting_limit_is_not_taken_back() -> None:
    """ "Hello, … Peterson … residence.": a greeting with short pauses that lasts longer than
    long_greeting_ms, but little speech after the verdict. After a greeting's verdict only the
    speech that follows (MANYWORDS) or a tone retracts, not the greeting's length."""
    audio = (
        silence(LEAD_MS)
        + speech("Hello,")
        + silence(350)
        + speech("Peterson")
        + silence(400)
        + speech("residence.")
        + silence(SETTINGS.retract_ms + 500)
    )
    assert ms_of(audio) - LEAD_MS - SETTINGS.retract_ms - 500 > SETTINGS.long_greeting_ms
    found = decisions(StreamingDetector(), audio)
    assert [(d.verdict, d.cause) for d in found] == [("HUMAN", "SHORTGREETING")]


def test_a_person_saying_hello_again_is_not_taken_back() -> None:
    """Heard nobody yet, they ask again, pausing to listen each time: short phrases, never
    a reading on (the hard set's 'hello-again' group)."""
    audio = (
        silence(LEAD_MS)
        + HELLO
        + silence(1000)
        + speech("Hello? Who's this?")
        + silence(1200)
        + HELLO
        + silence(SETTINGS.retract_ms)
    )
    found = decisions(StreamingDetector(), audio)
    assert [(d.verdict, d.cause) for d in found] == [("HUMAN", "SHORTGREETING")]


def test_after_the_retraction_window_nothing_more_is_said() -> None:
    quiet_ms = SETTINGS.human_pause_ms + SETTINGS.retract_ms + 200
    audio = silence(LEAD_MS) + HELLO + silence(quiet_ms) + tone(1000, 500)
    found = decisions(StreamingDetector(), audio)
    assert [d.verdict for d in found] == ["HUMAN"]


def test_silence_is_a_person_waiting_for_the_caller_to_speak() -> None:
    found = decisions(StreamingDetector(), silence(SETTINGS.max_analysis_ms + 1000))
    assert [(d.verdict, d.cause, d.at_ms) for d in found] == [
        ("HUMAN", "SILENCE", SETTINGS.silence_human_ms)
    ]


def test_without_the_silence_rule_silence_until_the_limit_is_notsure() -> None:
    detector = StreamingDetector(StreamingAmdSettings(silence_human_ms=0))
    found = decisions(detector, silence(SETTINGS.max_analysis_ms + 1000))
    assert [(d.verdict, d.cause, d.at_ms) for d in found] == [
        ("NOTSURE", "INITIALSILENCE", SETTINGS.max_analysis_ms)
    ]


def test_steady_line_noise_is_not_speech() -> None:
    audio = noise(SETTINGS.max_analysis_ms + 200, level=0.01)
    found = decisions(StreamingDetector(), audio)
    assert [(d.verdict, d.cause) for d in found] == [("HUMAN", "SILENCE")]
    found = decisions(StreamingDetector(StreamingAmdSettings(silence_human_ms=0)), audio)
    assert [(d.verdict, d.cause) for d in found] == [("NOTSURE", "INITIALSILENCE")]


def test_after_silence_a_person_answering_the_volunteer_at_length_is_not_taken_back() -> None:
    """The volunteer spoke first; a reply of two sentences (more than retract_speech_ms of
    speech) is a conversation, not a machine reading on."""
    reply = speech("Yes, this is Maria.") + silence(600) + speech("Who is calling, please?")
    audio = silence(1600) + reply + silence(SETTINGS.retract_ms)
    assert ms_of(reply) - 600 > SETTINGS.retract_speech_ms
    found = decisions(StreamingDetector(), audio)
    assert [(d.verdict, d.cause) for d in found] == [("HUMAN", "SILENCE")]


def test_after_silence_a_beep_retracts_the_verdict() -> None:
    audio = silence(1500) + tone(1000, 400) + silence(1000)
    found = decisions(StreamingDetector(), audio)
    assert [(d.verdict, d.cause) for d in found] == [("HUMAN", "SILENCE"), ("MACHINE", "BEEP")]


def test_after_silence_listening_ends_retract_ms_after_the_first_speech() -> None:
    audio = silence(1500) + HELLO + silence(SETTINGS.retract_ms) + tone(1000, 500)
    found = decisions(StreamingDetector(), audio)
    assert [(d.verdict, d.cause) for d in found] == [("HUMAN", "SILENCE")]


def test_a_tv_talking_behind_a_person_does_not_fill_their_pause() -> None:
    """The newsreader is 20 dB under the voice: below the speaker's own level, so silence."""
    tv = speech("In other news tonight, the council voted to extend the library hours.", "en-us+m7")
    audio = mixed(silence(LEAD_MS) + HELLO + silence(SETTINGS.retract_ms + 1000), tv, 0.1)
    found = decisions(StreamingDetector(), audio)
    assert [(d.verdict, d.cause) for d in found] == [("HUMAN", "GREETING")]
    after_pause = LEAD_MS + ms_of(HELLO) + SETTINGS.human_pause_ms
    # The TV may stretch the word's fading end by up to SPEECH_TAIL_MS.
    assert after_pause - SLACK_MS <= found[0].at_ms <= after_pause + SPEECH_TAIL_MS + SLACK_MS


def test_a_machine_that_starts_late_is_heard_out_past_the_limit() -> None:
    """Speech under way at max_analysis_ms: a long greeting still ends as MACHINE, not NOTSURE."""
    detector = StreamingDetector(StreamingAmdSettings(silence_human_ms=0))
    found = decisions(detector, silence(3500) + LONG + silence(1000))
    assert [(d.verdict, d.cause) for d in found] == [("MACHINE", "LONGGREETING")]
    threshold = 3500 + SETTINGS.long_greeting_ms
    assert SETTINGS.max_analysis_ms < threshold < found[0].at_ms <= threshold + ONSET_SLACK_MS


def test_a_machine_that_starts_late_is_taken_back_after_the_silence_verdict() -> None:
    found = decisions(StreamingDetector(), silence(3500) + LONG + silence(1000))
    assert [(d.verdict, d.cause) for d in found] == [
        ("HUMAN", "SILENCE"),
        ("MACHINE", "LONGGREETING"),
    ]
    threshold = 3500 + SETTINGS.long_greeting_ms
    assert threshold < found[1].at_ms <= threshold + ONSET_SLACK_MS


def test_a_person_after_a_long_silence_is_still_human() -> None:
    found = decisions(StreamingDetector(), silence(2500) + HELLO + silence(1000))
    assert [(d.verdict, d.cause) for d in found] == [("HUMAN", "SILENCE")]
    detector = StreamingDetector(StreamingAmdSettings(silence_human_ms=0))
    found = decisions(detector, silence(2500) + HELLO + silence(1000))
    assert [(d.verdict, d.cause) for d in found] == [("HUMAN", "SHORTGREETING")]


DEADLINE = StreamingAmdSettings(human_deadline_ms=1400)


def test_a_person_still_greeting_at_the_deadline_is_put_through_and_kept() -> None:
    """ "Hello, Johnson residence." spoken slowly ends after the deadline: HUMAN at the
    deadline (cause DEADLINE), and the greeting's end is a person's, so nothing retracts."""
    greeting = speech("Hello, Johnson residence.")
    assert LEAD_MS + ms_of(greeting) > DEADLINE.human_deadline_ms + 200
    audio = silence(LEAD_MS) + greeting + silence(DEADLINE.retract_ms + 500)
    found = decisions(StreamingDetector(DEADLINE), audio)
    assert [(d.verdict, d.cause, d.at_ms) for d in found] == [
        ("HUMAN", "DEADLINE", DEADLINE.human_deadline_ms)
    ]
    without = decisions(StreamingDetector(), audio)
    assert [(d.verdict, d.cause) for d in without] == [("HUMAN", "GREETING")]
    assert without[0].at_ms > LEAD_MS + ms_of(greeting)


def test_a_machine_put_through_at_the_deadline_is_taken_back_when_its_greeting_runs_long() -> None:
    found = decisions(StreamingDetector(DEADLINE), silence(LEAD_MS) + LONG + silence(1000))
    assert [(d.verdict, d.cause) for d in found] == [
        ("HUMAN", "DEADLINE"),
        ("MACHINE", "LONGGREETING"),
    ]
    long_at = LEAD_MS + DEADLINE.long_greeting_ms
    assert long_at <= found[1].at_ms <= long_at + SLACK_MS + ONSET_SLACK_MS


def test_after_the_deadline_only_words_after_the_greeting_count_as_reading_on() -> None:
    """The rest of the greeting the deadline cut into plus a short reply is more than
    retract_speech_ms, but the reply alone is not: a person, kept."""
    greeting = speech("Hello, this is John speaking.")
    reply = speech("Yes, who is calling?")
    rest_ms = LEAD_MS + ms_of(greeting) - DEADLINE.human_deadline_ms
    assert rest_ms + ms_of(reply) > DEADLINE.retract_speech_ms > ms_of(reply)
    audio = silence(LEAD_MS) + greeting + silence(700) + reply + silence(DEADLINE.retract_ms)
    found = decisions(StreamingDetector(DEADLINE), audio)
    assert [(d.verdict, d.cause) for d in found] == [("HUMAN", "DEADLINE")]


def test_a_beep_under_way_at_the_deadline_is_heard_out() -> None:
    greeting = speech("Leave a message.", wpm=130)
    gap_ms = DEADLINE.human_deadline_ms - 100 - LEAD_MS - ms_of(greeting)
    assert gap_ms > 0
    audio = silence(LEAD_MS) + greeting + silence(gap_ms) + tone(1000, 500) + silence(1000)
    found = decisions(StreamingDetector(DEADLINE), audio)
    assert [(d.verdict, d.cause) for d in found] == [("MACHINE", "BEEP")]


def test_the_deadline_waits_for_someone_to_speak() -> None:
    """With the silence rule off, a silent line is no greeting: the deadline passes, and the
    first words past it are put through at once."""
    settings = StreamingAmdSettings(human_deadline_ms=1400, silence_human_ms=0)
    found = decisions(StreamingDetector(settings), silence(2000) + LONG)
    assert [(d.verdict, d.cause) for d in found] == [
        ("HUMAN", "DEADLINE"),
        ("MACHINE", "LONGGREETING"),
    ]
    assert 2000 < found[0].at_ms <= 2000 + settings.min_speech_ms + ONSET_SLACK_MS


def test_a_frame_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="320 bytes"):
        StreamingDetector().feed(bytes(160))


def test_the_tap_stays_for_the_window_in_which_a_retraction_may_come() -> None:
    assert listening_after_human_ms(SETTINGS, "GREETING", 900) == SETTINGS.retract_ms
    assert listening_after_human_ms(SETTINGS, "SILENCE", SETTINGS.silence_human_ms) == (
        SETTINGS.max_analysis_ms + SETTINGS.retract_ms - SETTINGS.silence_human_ms
    )
    assert listening_after_human_ms(StreamingAmdSettings(retract_ms=0), "SILENCE", 1000) == 0
