from __future__ import annotations

import pytest

from engine.models import SessionState
from engine.session_states import (
    LIVE_STATES,
    IllegalTransition,
    SessionEvent,
    describe,
    next_session_state,
)

S, E = SessionState, SessionEvent

LEGAL = [
    (S.WAITING_FOR_PHONE, E.PHONE_CONNECTED, S.CONNECTED),
    (S.CONNECTED, E.START_CALLING, S.READY),
    (S.READY, E.CALL_CONNECTED, S.TALKING),
    (S.TALKING, E.CALL_ENDED, S.WRAP_UP),
    (S.WRAP_UP, E.RESULT_SAVED_READY, S.READY),
    (S.WRAP_UP, E.RESULT_SAVED_PAUSE, S.PAUSED),
    (S.READY, E.PAUSE, S.PAUSED),
    (S.PAUSED, E.RESUME, S.READY),
    (S.WRAP_UP, E.WRAPUP_TIMEOUT, S.LOGGED_OUT),
    # preview dialing: ready → card → ringing → talking, and every way back
    (S.READY, E.PREVIEW_OFFERED, S.PREVIEWING),
    (S.PREVIEWING, E.CALL_PLACED, S.RINGING),
    (S.PREVIEWING, E.SKIPPED, S.READY),
    (S.PREVIEWING, E.PAUSE, S.PAUSED),
    (S.PREVIEWING, E.PHONE_DROPPED, S.WAITING_FOR_PHONE),
    (S.PREVIEWING, E.PREVIEW_RELEASED, S.READY),
    (S.RINGING, E.CALL_CONNECTED, S.TALKING),
    (S.RINGING, E.NOT_REACHED, S.READY),
    (S.RINGING, E.CALL_CANCELLED, S.READY),
    (S.RINGING, E.PAUSE, S.PAUSED),
    (S.RINGING, E.PHONE_DROPPED, S.WAITING_FOR_PHONE),
    (S.RINGING, E.PREVIEW_RELEASED, S.READY),
]


@pytest.mark.parametrize(("state", "event", "expected"), LEGAL)
def test_legal_move(state, event, expected):
    assert next_session_state(state, event) is expected


@pytest.mark.parametrize("state", sorted(LIVE_STATES))
def test_log_out_from_any_live_state(state):
    assert next_session_state(state, E.LOG_OUT) is S.LOGGED_OUT


@pytest.mark.parametrize("state", [S.CONNECTED, S.READY, S.PAUSED])
def test_phone_dropped_waits_for_the_phone_again(state):
    assert next_session_state(state, E.PHONE_DROPPED) is S.WAITING_FOR_PHONE


def test_phone_dropped_while_talking_goes_to_wrap_up():
    """The call ends with the phone leg; the volunteer still owes a result."""
    assert next_session_state(S.TALKING, E.PHONE_DROPPED) is S.WRAP_UP


def test_phone_dropped_in_wrap_up_stays_in_wrap_up():
    assert next_session_state(S.WRAP_UP, E.PHONE_DROPPED) is S.WRAP_UP


def test_phone_reconnected_in_wrap_up_stays_in_wrap_up():
    assert next_session_state(S.WRAP_UP, E.PHONE_CONNECTED) is S.WRAP_UP


def test_phone_reconnected_while_paused_stays_paused():
    assert next_session_state(S.PAUSED, E.PHONE_CONNECTED) is S.PAUSED


@pytest.mark.parametrize("event", list(SessionEvent))
def test_logged_out_is_final(event):
    with pytest.raises(IllegalTransition):
        next_session_state(S.LOGGED_OUT, event)


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (S.WAITING_FOR_PHONE, E.START_CALLING),
        (S.CONNECTED, E.CALL_CONNECTED),
        (S.READY, E.CALL_ENDED),
        (S.TALKING, E.PAUSE),
        (S.PAUSED, E.CALL_CONNECTED),
        (S.READY, E.WRAPUP_TIMEOUT),
        (S.TALKING, E.RESULT_SAVED_READY),
    ],
)
def test_illegal_move_is_rejected(state, event):
    with pytest.raises(IllegalTransition):
        next_session_state(state, event)


def test_illegal_move_names_state_and_event():
    with pytest.raises(IllegalTransition, match=r"'talking'.*'pause'"):
        next_session_state(S.TALKING, E.PAUSE)


def test_live_states_are_all_but_logged_out():
    assert set(SessionState) - LIVE_STATES == {S.LOGGED_OUT}


def test_ready_is_described_as_waiting_for_the_next_call():
    assert describe(S.READY) == "Waiting for the next call…"


@pytest.mark.parametrize("state", list(SessionState))
def test_every_state_has_a_sentence(state):
    assert describe(state).endswith((".", "…", "!"))
