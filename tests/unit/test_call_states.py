from __future__ import annotations

import pytest

from engine.calls.states import CallEvent, IllegalTransition, next_call_state
from engine.errors import PhonebankError
from engine.models import CallState

S, E = CallState, CallEvent

LEGAL = [
    (S.CLAIMED, E.ORIGINATED, S.DIALING),
    (S.CLAIMED, E.FAILED, S.ENDED),
    (S.DIALING, E.HUMAN, S.CONNECTING),
    (S.DIALING, E.MACHINE, S.ENDED),
    (S.DIALING, E.VOICEMAIL_STARTED, S.LEAVING_VOICEMAIL),
    (S.DIALING, E.HANGUP, S.ENDED),
    (S.DIALING, E.FAILED, S.ENDED),
    (S.CONNECTING, E.VOLUNTEER_FOUND, S.CONNECTED),
    (S.CONNECTING, E.NO_VOLUNTEER, S.ABANDONING),
    (S.CONNECTING, E.HANGUP, S.ENDED),
    (S.CONNECTED, E.HANGUP, S.ENDED),
    (S.CONNECTED, E.VOLUNTEER_ENDED, S.ENDED),
    (S.ABANDONING, E.MESSAGE_DONE, S.ENDED),
    (S.ABANDONING, E.HANGUP, S.ENDED),
    (S.LEAVING_VOICEMAIL, E.MESSAGE_DONE, S.ENDED),
    (S.LEAVING_VOICEMAIL, E.HANGUP, S.ENDED),
]


@pytest.mark.parametrize(("state", "event", "expected"), LEGAL)
def test_legal_move(state: CallState, event: CallEvent, expected: CallState) -> None:
    assert next_call_state(state, event) is expected


def test_duplicate_hangup_on_an_ended_call_stays_ended() -> None:
    """Asterisk can report one hangup more than once."""
    assert next_call_state(S.ENDED, E.HANGUP) is S.ENDED


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (S.CLAIMED, E.HUMAN),
        (S.DIALING, E.VOLUNTEER_FOUND),
        (S.CONNECTING, E.MACHINE),
        (S.CONNECTED, E.NO_VOLUNTEER),
        (S.ABANDONING, E.VOLUNTEER_FOUND),
        (S.LEAVING_VOICEMAIL, E.HUMAN),
        (S.ENDED, E.ORIGINATED),
        (S.ENDED, E.VOLUNTEER_ENDED),
    ],
)
def test_illegal_move_is_rejected(state: CallState, event: CallEvent) -> None:
    with pytest.raises(IllegalTransition):
        next_call_state(state, event)


def test_illegal_move_names_state_and_event() -> None:
    with pytest.raises(IllegalTransition, match=r"'ended'.*'originated'"):
        next_call_state(S.ENDED, E.ORIGINATED)


def test_illegal_transition_is_a_phonebank_error() -> None:
    assert issubclass(IllegalTransition, PhonebankError)
