"""The state machine of a volunteer's session, as one table.

`next_session_state` is pure: the session's owner does the side effects (bridges, prompts,
deadlines, pushing the screen) and persists each transition.
"""

from __future__ import annotations

from enum import StrEnum

from engine.models import SessionState
from engine.transitions import IllegalTransition

__all__ = [
    "LIVE_STATES",
    "PREVIEW_STATES",
    "TRANSITIONS",
    "WITHOUT_PHONE",
    "IllegalTransition",
    "SessionEvent",
    "describe",
    "next_session_state",
]


class SessionEvent(StrEnum):
    PHONE_CONNECTED = "phone connected"
    PHONE_DROPPED = "phone dropped"
    START_CALLING = "start calling"
    CALL_CONNECTED = "call connected"
    CALL_ENDED = "call ended"
    CALL_TAKEN_BACK = "call taken back"
    """Early connect put a machine through; the volunteer is taken back out: no result owed."""
    RESULT_SAVED_READY = "result saved, ready"
    RESULT_SAVED_PAUSE = "result saved, pause"
    PAUSE = "pause"
    RESUME = "resume"
    WRAPUP_TIMEOUT = "wrap-up timeout"
    LOG_OUT = "log out"
    # Preview dialing (engine/calls/preview.py): the volunteer sees the voter first.
    PREVIEW_OFFERED = "preview offered"
    CALL_PLACED = "call placed"
    """The volunteer pressed Call: the voter's phone rings."""
    SKIPPED = "skipped"
    """The volunteer passed on the voter without calling; the voter is given back."""
    NOT_REACHED = "not reached"
    """The preview call was not answered (no answer, busy, a dead number, a failure)."""
    CALL_CANCELLED = "call cancelled"
    """The volunteer hung up while it was still ringing."""
    PREVIEW_RELEASED = "preview released"
    """The engine gave the previewed voter back on its own (a restart)."""


_S, _E = SessionState, SessionEvent

LIVE_STATES = frozenset(s for s in SessionState if s is not SessionState.LOGGED_OUT)
"""Every state but LOGGED_OUT, which is final."""

PREVIEW_STATES = frozenset({SessionState.PREVIEWING, SessionState.RINGING})
"""A voter is held for the volunteer by preview dialing: it must be given back (and any
ringing call hung up) before the session leaves these states other than by an answer."""

TRANSITIONS: dict[tuple[SessionState, SessionEvent], SessionState] = {
    (_S.CONNECTED, _E.START_CALLING): _S.READY,
    (_S.READY, _E.CALL_CONNECTED): _S.TALKING,
    (_S.TALKING, _E.CALL_ENDED): _S.WRAP_UP,
    (_S.TALKING, _E.CALL_TAKEN_BACK): _S.READY,
    (_S.WRAP_UP, _E.RESULT_SAVED_READY): _S.READY,
    (_S.WRAP_UP, _E.RESULT_SAVED_PAUSE): _S.PAUSED,
    # The deadline passed without Next: what was typed is kept, the volunteer takes a break
    # (engine/sessions/drafts.py); logged out instead only by the campaign's setting.
    (_S.WRAP_UP, _E.WRAPUP_TIMEOUT): _S.PAUSED,
    (_S.READY, _E.PAUSE): _S.PAUSED,
    (_S.PAUSED, _E.RESUME): _S.READY,
    (_S.PHONE_DISCONNECTED, _E.PAUSE): _S.PAUSED,
    # The volunteer's phone leg dropped: they call in again with the PIN and carry on where
    # they were. Nobody is given a call without a phone: a volunteer who was taking calls
    # waits in PHONE_DISCONNECTED; paused and wrap-up stay as they are, phone-less.
    (_S.WAITING_FOR_PHONE, _E.PHONE_DROPPED): _S.WAITING_FOR_PHONE,
    (_S.CONNECTED, _E.PHONE_DROPPED): _S.WAITING_FOR_PHONE,
    (_S.READY, _E.PHONE_DROPPED): _S.PHONE_DISCONNECTED,
    (_S.PHONE_DISCONNECTED, _E.PHONE_DROPPED): _S.PHONE_DISCONNECTED,
    (_S.PAUSED, _E.PHONE_DROPPED): _S.PAUSED,
    (_S.TALKING, _E.PHONE_DROPPED): _S.WRAP_UP,  # the call ends; a result is still owed
    (_S.WRAP_UP, _E.PHONE_DROPPED): _S.WRAP_UP,
    # A phone (re)connects in any live state: a first call-in, a call back after a drop or a
    # restart, or a second call replacing the first leg.
    (_S.WAITING_FOR_PHONE, _E.PHONE_CONNECTED): _S.CONNECTED,
    (_S.PHONE_DISCONNECTED, _E.PHONE_CONNECTED): _S.READY,
    **{
        (state, _E.PHONE_CONNECTED): state
        for state in (_S.CONNECTED, _S.READY, _S.PREVIEWING, _S.RINGING, _S.TALKING)
    },
    (_S.WRAP_UP, _E.PHONE_CONNECTED): _S.WRAP_UP,
    (_S.PAUSED, _E.PHONE_CONNECTED): _S.PAUSED,
    # Preview dialing: ready → a voter's card → Call → ringing → talking (or back to ready).
    (_S.READY, _E.PREVIEW_OFFERED): _S.PREVIEWING,
    (_S.PREVIEWING, _E.CALL_PLACED): _S.RINGING,
    (_S.PREVIEWING, _E.SKIPPED): _S.READY,
    (_S.PREVIEWING, _E.PAUSE): _S.PAUSED,
    (_S.PREVIEWING, _E.PHONE_DROPPED): _S.PHONE_DISCONNECTED,
    (_S.PREVIEWING, _E.PREVIEW_RELEASED): _S.READY,
    (_S.RINGING, _E.CALL_CONNECTED): _S.TALKING,
    (_S.RINGING, _E.NOT_REACHED): _S.READY,
    (_S.RINGING, _E.CALL_CANCELLED): _S.READY,
    (_S.RINGING, _E.PAUSE): _S.PAUSED,
    (_S.RINGING, _E.PHONE_DROPPED): _S.PHONE_DISCONNECTED,
    (_S.RINGING, _E.PREVIEW_RELEASED): _S.READY,
    **{(state, _E.LOG_OUT): _S.LOGGED_OUT for state in LIVE_STATES},
}
"""Every legal move: (state, event) → next state."""

WITHOUT_PHONE: dict[SessionState, SessionState] = {
    _S.CONNECTED: _S.WAITING_FOR_PHONE,
    _S.READY: _S.PHONE_DISCONNECTED,
}
"""Where a move lands instead when the session has no phone leg: saving a result ('ready')
or resuming after the phone dropped in wrap-up or a break must not make the volunteer READY
(the dialer would count them, the page would say "Waiting for the next call…")."""

_DESCRIPTIONS: dict[SessionState, str] = {
    _S.WAITING_FOR_PHONE: "Call in with your PIN to connect your audio.",
    _S.CONNECTED: "You're connected. Press Start calling when you're ready.",
    _S.READY: "Waiting for the next call…",
    _S.PREVIEWING: "Read who you're calling, then press Call — or Skip.",
    _S.RINGING: "Ringing…",
    _S.TALKING: "You're on a call.",
    _S.WRAP_UP: "The call has ended. Save the result to take the next call.",
    _S.PAUSED: "Paused. Press Resume to take calls again.",
    _S.PHONE_DISCONNECTED: "Your phone is disconnected, so no calls come to you. Call in "
    "again and enter your PIN to take calls again.",
    _S.LOGGED_OUT: "You're logged out. Thank you for calling!",
}


_WITHOUT_PHONE_DESCRIPTIONS: dict[SessionState, str] = {
    _S.PAUSED: "Paused, and your phone is disconnected. Call in again and enter your PIN "
    "before you resume.",
    _S.WRAP_UP: "The call has ended and your phone is disconnected. Save the result, then "
    "call in again and enter your PIN to take the next call.",
}


def next_session_state(
    state: SessionState, event: SessionEvent, *, phone: bool = True
) -> SessionState:
    """The state after `event`; ``phone``: whether the session has a phone leg afterwards.
    Raises IllegalTransition if the event does not apply."""
    try:
        after = TRANSITIONS[state, event]
    except KeyError:
        raise IllegalTransition(
            f"a session in state {state.value!r} cannot take event {event.value!r}"
        ) from None
    return after if phone else WITHOUT_PHONE.get(after, after)


# issue 14 item 7: a volunteer on computer audio never reads "your phone".
_COMPUTER_DESCRIPTIONS: dict[SessionState, str] = {
    _S.WAITING_FOR_PHONE: "Connecting your computer's audio: allow the microphone if your "
    "browser asks.",
    _S.CONNECTED: "You're connected through your computer. Press Start calling when you're ready.",
    _S.PHONE_DISCONNECTED: "Your computer's audio is disconnected, so no calls come to you. "
    "Reload this page to reconnect it.",
}

_COMPUTER_WITHOUT_AUDIO_DESCRIPTIONS: dict[SessionState, str] = {
    _S.PAUSED: "Paused, and your computer's audio is disconnected. Reload this page to "
    "reconnect it before you resume.",
    _S.WRAP_UP: "The call has ended and your computer's audio is disconnected. Save the "
    "result, then reload this page to take the next call.",
}


def describe(state: SessionState, *, phone: bool = True, computer: bool = False) -> str:
    """A sentence for the volunteer's screen saying where they are and what to do next;
    ``phone``: whether their phone (or browser audio) is on the line; ``computer``: whether
    they talk through the browser ("Call using computer") rather than a phone."""
    if computer:
        if not phone and state in _COMPUTER_WITHOUT_AUDIO_DESCRIPTIONS:
            return _COMPUTER_WITHOUT_AUDIO_DESCRIPTIONS[state]
        if state in _COMPUTER_DESCRIPTIONS:
            return _COMPUTER_DESCRIPTIONS[state]
    if not phone and state in _WITHOUT_PHONE_DESCRIPTIONS:
        return _WITHOUT_PHONE_DESCRIPTIONS[state]
    return _DESCRIPTIONS[state]
