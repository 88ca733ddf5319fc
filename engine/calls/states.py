"""The state machine of one outbound call attempt, as one table.

`next_call_state` is pure: the task that owns the call performs the side effects (originate,
bridge, play, hang up) and persists each transition.
"""

from __future__ import annotations

from enum import StrEnum

from engine.models import CallState
from engine.transitions import IllegalTransition

__all__ = ["TRANSITIONS", "CallEvent", "IllegalTransition", "next_call_state"]


class CallEvent(StrEnum):
    ORIGINATED = "originated"
    HUMAN = "human"
    """AMD heard a person (or NOTSURE, when the campaign treats that as a person)."""
    MACHINE = "machine"
    """AMD heard an answering machine and the campaign leaves no message: hang up."""
    VOLUNTEER_FOUND = "volunteer found"
    """Bridged with a ready volunteer."""
    NO_VOLUNTEER = "no volunteer"
    """No volunteer was free within 2 seconds of the answer."""
    VOICEMAIL_STARTED = "voicemail started"
    MESSAGE_DONE = "message done"
    """The abandon or voicemail message finished playing."""
    HANGUP = "hangup"
    """The voter's side is gone."""
    VOLUNTEER_ENDED = "volunteer ended"
    FAILED = "failed"
    """Originate refused, trunk down or another failure on our side."""


_S, _E = CallState, CallEvent

TRANSITIONS: dict[tuple[CallState, CallEvent], CallState] = {
    (_S.CLAIMED, _E.ORIGINATED): _S.DIALING,
    (_S.CLAIMED, _E.FAILED): _S.ENDED,
    (_S.DIALING, _E.HUMAN): _S.CONNECTING,
    (_S.DIALING, _E.MACHINE): _S.ENDED,
    (_S.DIALING, _E.VOICEMAIL_STARTED): _S.LEAVING_VOICEMAIL,
    (_S.DIALING, _E.HANGUP): _S.ENDED,
    (_S.DIALING, _E.FAILED): _S.ENDED,
    (_S.CONNECTING, _E.VOLUNTEER_FOUND): _S.CONNECTED,
    (_S.CONNECTING, _E.NO_VOLUNTEER): _S.ABANDONING,
    (_S.CONNECTING, _E.HANGUP): _S.ENDED,
    (_S.CONNECTED, _E.HANGUP): _S.ENDED,
    (_S.CONNECTED, _E.VOLUNTEER_ENDED): _S.ENDED,
    (_S.ABANDONING, _E.MESSAGE_DONE): _S.ENDED,
    (_S.ABANDONING, _E.HANGUP): _S.ENDED,
    (_S.LEAVING_VOICEMAIL, _E.MESSAGE_DONE): _S.ENDED,
    (_S.LEAVING_VOICEMAIL, _E.HANGUP): _S.ENDED,
    (_S.ENDED, _E.HANGUP): _S.ENDED,
    # Asterisk may report the same hangup twice (ChannelHangupRequest, ChannelDestroyed).
}
"""Every legal move: (state, event) → next state. ENDED is final."""


def next_call_state(state: CallState, event: CallEvent) -> CallState:
    """The state after `event`. Raises IllegalTransition if the event does not apply."""
    try:
        return TRANSITIONS[state, event]
    except KeyError:
        raise IllegalTransition(
            f"a call in state {state.value!r} cannot take event {event.value!r}"
        ) from None
