"""The preview part of the session state table: ready → card → ringing → talking, and every
way back."""

from __future__ import annotations

import pytest

from engine.models import SessionState
from engine.session_states import (
    LIVE_STATES,
    PREVIEW_STATES,
    IllegalTransition,
    SessionEvent,
    describe,
    next_session_state,
)

S, E = SessionState, SessionEvent

LEGAL = [
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
def test_legal_preview_move(state, event, expected):
    assert next_session_state(state, event) is expected


@pytest.mark.parametrize("state", sorted(PREVIEW_STATES))
def test_log_out_from_a_preview_state(state):
    assert state in LIVE_STATES
    assert next_session_state(state, E.LOG_OUT) is S.LOGGED_OUT


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (S.CONNECTED, E.PREVIEW_OFFERED),  # only a ready volunteer gets a card
        (S.PAUSED, E.PREVIEW_OFFERED),
        (S.TALKING, E.PREVIEW_OFFERED),
        (S.WRAP_UP, E.PREVIEW_OFFERED),
        (S.PREVIEWING, E.PREVIEW_OFFERED),  # one card at a time
        (S.READY, E.CALL_PLACED),  # nothing to call
        (S.RINGING, E.CALL_PLACED),  # never two calls
        (S.PREVIEWING, E.CALL_CONNECTED),  # an answer needs a placed call
        (S.RINGING, E.SKIPPED),  # a ringing call is cancelled, not skipped
        (S.PREVIEWING, E.CALL_CANCELLED),
        (S.TALKING, E.CALL_CANCELLED),
        (S.READY, E.NOT_REACHED),
        (S.PREVIEWING, E.CALL_ENDED),
    ],
)
def test_illegal_preview_moves_are_refused(state, event):
    with pytest.raises(IllegalTransition, match=event.value):
        next_session_state(state, event)


def test_the_preview_states_tell_the_volunteer_what_to_do():
    assert "Call" in describe(S.PREVIEWING) and "Skip" in describe(S.PREVIEWING)
    assert describe(S.RINGING) == "Ringing…"
