from __future__ import annotations

import pytest

from engine.models import SessionState
from engine.sessions.states import (
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
    (S.TALKING, E.CALL_TAKEN_BACK, S.READY),  # early connect put a machine through
    (S.WRAP_UP, E.RESULT_SAVED_READY, S.READY),
    (S.WRAP_UP, E.RESULT_SAVED_PAUSE, S.PAUSED),
    (S.READY, E.PAUSE, S.PAUSED),
    (S.PAUSED, E.RESUME, S.READY),
    (S.WRAP_UP, E.WRAPUP_TIMEOUT, S.PAUSED),  # logged out only by the campaign's setting
    # preview dialing: ready → card → ringing → talking, and every way back
    (S.READY, E.PREVIEW_OFFERED, S.PREVIEWING),
    (S.PREVIEWING, E.CALL_PLACED, S.RINGING),
    (S.PREVIEWING, E.SKIPPED, S.READY),
    (S.PREVIEWING, E.PAUSE, S.PAUSED),
    (S.PREVIEWING, E.PHONE_DROPPED, S.PHONE_DISCONNECTED),
    (S.PREVIEWING, E.PREVIEW_RELEASED, S.READY),
    (S.RINGING, E.CALL_CONNECTED, S.TALKING),
    (S.RINGING, E.NOT_REACHED, S.READY),
    (S.RINGING, E.CALL_CANCELLED, S.READY),
    (S.RINGING, E.PAUSE, S.PAUSED),
    (S.RINGING, E.PHONE_DROPPED, S.PHONE_DISCONNECTED),
    (S.RINGING, E.PREVIEW_RELEASED, S.READY),
]


@pytest.mark.parametrize(("state", "event", "expected"), LEGAL)
def test_legal_move(state: SessionState, event: SessionEvent, expected: SessionState) -> None:
    assert next_session_state(state, event) is expected


@pytest.mark.parametrize("state", sorted(LIVE_STATES))
def test_log_out_from_any_live_state(state: SessionState) -> None:
    assert next_session_state(state, E.LOG_OUT) is S.LOGGED_OUT


def test_phone_dropped_before_calling_waits_for_the_phone_again() -> None:
    assert next_session_state(S.CONNECTED, E.PHONE_DROPPED) is S.WAITING_FOR_PHONE


@pytest.mark.parametrize("state", [S.READY, S.PREVIEWING, S.RINGING])
def test_phone_dropped_while_taking_calls_is_not_ready(state: SessionState) -> None:
    """No call may be given to a volunteer without a phone (issue 11, item 13)."""
    assert next_session_state(state, E.PHONE_DROPPED) is S.PHONE_DISCONNECTED


def test_phone_dropped_while_paused_stays_paused() -> None:
    assert next_session_state(S.PAUSED, E.PHONE_DROPPED) is S.PAUSED


@pytest.mark.parametrize("state", sorted(LIVE_STATES))
def test_every_live_state_takes_the_phone_connecting(state: SessionState) -> None:
    """The 'ready' + 'phone connected' IllegalTransition stranded volunteers."""
    assert next_session_state(state, E.PHONE_CONNECTED) in LIVE_STATES


@pytest.mark.parametrize("state", sorted(LIVE_STATES))
def test_every_live_state_takes_the_phone_dropping(state: SessionState) -> None:
    after = next_session_state(state, E.PHONE_DROPPED, phone=False)
    assert after not in (S.READY, S.CONNECTED, S.PREVIEWING, S.RINGING, S.TALKING)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (S.WAITING_FOR_PHONE, S.CONNECTED),
        (S.PHONE_DISCONNECTED, S.READY),
        (S.READY, S.READY),
        (S.PAUSED, S.PAUSED),
        (S.WRAP_UP, S.WRAP_UP),
        (S.TALKING, S.TALKING),
    ],
)
def test_the_phone_coming_back_returns_the_volunteer_where_they_were(
    state: SessionState, expected: SessionState
) -> None:
    assert next_session_state(state, E.PHONE_CONNECTED) is expected


@pytest.mark.parametrize(
    ("state", "event"),
    [(S.WRAP_UP, E.RESULT_SAVED_READY), (S.PAUSED, E.RESUME)],
)
def test_taking_calls_again_without_a_phone_is_not_ready(
    state: SessionState, event: SessionEvent
) -> None:
    """A result saved (or a break ended) after the phone dropped: no calls until it is back."""
    assert next_session_state(state, event, phone=False) is S.PHONE_DISCONNECTED
    assert next_session_state(state, event) is S.READY


def test_a_volunteer_without_a_phone_may_take_a_break() -> None:
    assert next_session_state(S.PHONE_DISCONNECTED, E.PAUSE) is S.PAUSED


@pytest.mark.parametrize("state", [S.PAUSED, S.WRAP_UP, S.PHONE_DISCONNECTED])
def test_the_page_says_when_the_phone_is_gone(state: SessionState) -> None:
    assert "phone is disconnected" in describe(state, phone=False)
    assert "PIN" in describe(state, phone=False)


def test_phone_dropped_while_talking_goes_to_wrap_up() -> None:
    """The call ends with the phone leg; the volunteer still owes a result."""
    assert next_session_state(S.TALKING, E.PHONE_DROPPED) is S.WRAP_UP


def test_phone_dropped_in_wrap_up_stays_in_wrap_up() -> None:
    assert next_session_state(S.WRAP_UP, E.PHONE_DROPPED) is S.WRAP_UP


def test_phone_reconnected_in_wrap_up_stays_in_wrap_up() -> None:
    assert next_session_state(S.WRAP_UP, E.PHONE_CONNECTED) is S.WRAP_UP


def test_phone_reconnected_while_paused_stays_paused() -> None:
    assert next_session_state(S.PAUSED, E.PHONE_CONNECTED) is S.PAUSED


@pytest.mark.parametrize("event", list(SessionEvent))
def test_logged_out_is_final(event: SessionEvent) -> None:
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
        (S.PHONE_DISCONNECTED, E.CALL_CONNECTED),
        (S.PHONE_DISCONNECTED, E.PREVIEW_OFFERED),
        (S.PHONE_DISCONNECTED, E.START_CALLING),
        (S.READY, E.WRAPUP_TIMEOUT),
        (S.TALKING, E.RESULT_SAVED_READY),
    ],
)
def test_illegal_move_is_rejected(state: SessionState, event: SessionEvent) -> None:
    with pytest.raises(IllegalTransition):
        next_session_state(state, event)


def test_illegal_move_names_state_and_event() -> None:
    with pytest.raises(IllegalTransition, match=r"'talking'.*'pause'"):
        next_session_state(S.TALKING, E.PAUSE)


def test_live_states_are_all_but_logged_out() -> None:
    assert set(SessionState) - LIVE_STATES == {S.LOGGED_OUT}


def test_ready_is_described_as_waiting_for_the_next_call() -> None:
    assert describe(S.READY) == "Waiting for the next call…"


@pytest.mark.parametrize("state", list(SessionState))
def test_every_state_has_a_sentence(state: SessionState) -> None:
    assert describe(state).endswith((".", "…", "!"))
