"""The evaluation sets bench/amd_accuracy.py dials (testbed/amd_survey.py ``survey_voters``):
today's greetings by behaviours 10/11/20/21, the harder set's clips by behaviour 50 in
manifest order, each with its expected verdict."""

from __future__ import annotations

import pytest

from testbed.amd_survey import survey_voters
from testbed.behaviours import behaviour_of

VOICES = {
    "files": [
        {"kind": "person", "index": 0},
        {"kind": "person", "index": 1},
        {"kind": "talk", "index": 0},
        {"kind": "machine", "index": 0},
        {"kind": "carriervm", "index": 0},
    ]
}
HARD = {
    "files": [
        {"kind": "late", "index": 0, "expected": "HUMAN"},
        {"kind": "sit", "index": 0, "expected": "MACHINE"},
        {"kind": "sit", "index": 1, "expected": "MACHINE"},
    ]
}


def test_todays_set_is_each_person_plain_and_silent_first_and_each_machine() -> None:
    voters = survey_voters("today", VOICES, HARD)
    assert [(v.digits, v.expected) for v in voters] == [
        ("1000", "HUMAN"),
        ("1001", "HUMAN"),
        ("1100", "HUMAN"),
        ("1101", "HUMAN"),
        ("2000", "MACHINE"),
        ("2100", "MACHINE"),
    ]
    assert voters[2].kind == "person-silent-first"


def test_the_hard_set_numbers_each_clip_by_its_place_in_the_manifest() -> None:
    voters = survey_voters("hard", VOICES, HARD)
    assert [(v.digits, v.kind, v.expected) for v in voters] == [
        ("5000", "late", "HUMAN"),
        ("5001", "sit", "MACHINE"),
        ("5002", "sit", "MACHINE"),
    ]
    behaviour = behaviour_of(f"+1202555{voters[1].digits}")
    assert behaviour is not None and behaviour.name == "a clip of the harder AMD set"


def test_a_set_the_carrier_cannot_play_is_refused() -> None:
    with pytest.raises(ValueError, match="no clips of the harder set"):
        survey_voters("hard", VOICES, {})
    with pytest.raises(ValueError, match="unknown evaluation set"):
        survey_voters("harder", VOICES, HARD)
