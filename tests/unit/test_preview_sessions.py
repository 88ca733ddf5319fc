"""The preview part of the session state table: ready → card → ringing → talking, and every
way back."""

from __future__ import annotations

import pytest

from engine.models import SessionState
from engine.sessions.states import (
    LIVE_STATES,
    PREVIEW_STATES,
    IllegalTransition,
    SessionEvent,
    describe,
    next_session_state,
)

S, E = SessionState, SessionEvent


def test_the_preview_states_are_live_states() -> None:
    assert PREVIEW_STATES <= LIVE_STATES  # so log-out and a dropped phone work from them


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
def test_illegal_preview_moves_are_refused(state: SessionState, event: SessionEvent) -> None:
    with pytest.raises(IllegalTransition, match=event.value):
        next_session_state(state, event)


def test_the_preview_states_tell_the_volunteer_what_to_do() -> None:
    assert "Call" in describe(S.PREVIEWING) and "Skip" in describe(S.PREVIEWING)
    assert describe(S.RINGING) == "Ringing…"
