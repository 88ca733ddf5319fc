"""The state machine of every call to a voter (automatic and preview), as one pure table.

`next_state(phase, event)` gives the next phase and, when the call ends, its outcome. It does
no I/O: the task that owns the call (engine/calls/owner.py) performs the side effects
(originate, bridge, play, hang up) and persists each transition.

A phase is finer than the `CallState` stored with the attempt: while the line is "dialing"
the table still needs to know whether it was answered, or whether we are hanging up a
machine or a dead line, to tell how it ended. The voter's channel going away is one event
per hang-up cause (engine/calls/causes.py reads the cause): a call that was never answered
takes its outcome from the cause; an answered one from the phase it was in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.calls.causes import outcome_for_cause
from engine.models import CallOutcome, CallState
from engine.transitions import IllegalTransition

__all__ = [
    "LOST_AS",
    "TRANSITIONS",
    "CallEvent",
    "CallPhase",
    "IllegalTransition",
    "Moved",
    "gone_event",
    "next_state",
]


class CallPhase(StrEnum):
    CLAIMED = "claimed"
    RINGING = "ringing"
    """Originated, not answered (yet)."""
    ANSWERED = "answered"
    """Answered; answering-machine detection is listening."""
    HANGING_UP = "hanging up"
    """AMD heard a machine and the campaign leaves no message: we hang up."""
    FAILING = "failing"
    """Answered but we cannot serve it (dead air, a preview answer not put through)."""
    CONNECTING = "connecting"
    CONNECTED = "connected"
    ABANDONING = "abandoning"
    LEAVING_VOICEMAIL = "leaving voicemail"
    ENDED = "ended"

    @property
    def stored(self) -> CallState:
        """The state recorded with the attempt."""
        return _STORED.get(self, CallState.DIALING)


_STORED = {
    CallPhase.CLAIMED: CallState.CLAIMED,
    CallPhase.CONNECTING: CallState.CONNECTING,
    CallPhase.CONNECTED: CallState.CONNECTED,
    CallPhase.ABANDONING: CallState.ABANDONING,
    CallPhase.LEAVING_VOICEMAIL: CallState.LEAVING_VOICEMAIL,
    CallPhase.ENDED: CallState.ENDED,
}


class CallEvent(StrEnum):
    ORIGINATED = "originated"
    FAILED = "failed"
    """The originate was refused: our failure."""
    GIVEN_BACK = "given back"
    """Never placed, or lost by a failure of ours before a verdict: not charged."""
    LOST = "lost"
    """Vanished through a failure of ours (the PBX died or froze): a person we did not
    serve is an abandon, a machine a machine, a conversation a contact; a call that never
    reached a verdict is not charged (engine/calls/lost_calls.py says the same of attempts
    left by an earlier run)."""
    ANSWERED = "answered"
    """The line went up (an automatic call: AMD starts listening)."""
    HUMAN = "human"
    """AMD heard a person (or NOTSURE, when the campaign treats that as a person); a preview
    call is answered by a person who is awaited."""
    MACHINE = "machine"
    """AMD heard an answering machine and the campaign leaves no message: hang up. Also
    after an early connect (a streaming verdict that came after the voter was put through,
    or while a volunteer was sought), as VOICEMAIL_STARTED is."""
    VOICEMAIL_STARTED = "voicemail started"
    DEAD_AIR = "dead air"
    """Answered but not one RTP packet arrives: hang up, the network's failure."""
    NOT_PUT_THROUGH = "not put through"
    """A preview answer that could not be put in the volunteer's bridge: hang up."""
    VOLUNTEER_FOUND = "volunteer found"
    NO_VOLUNTEER = "no volunteer"
    """No volunteer was free within 2 seconds of the answer."""
    RELEASED = "released"
    """The volunteer let go of a ringing preview call: nobody answered in the time given."""
    GONE_NO_ANSWER = "gone: no answer"
    """The voter's channel is gone; the hang-up cause (and whether the network worked)
    reads "no answer" — as do normal hang-ups of answered calls."""
    GONE_BUSY = "gone: busy"
    GONE_UNALLOCATED = "gone: unallocated"
    GONE_REJECTED = "gone: rejected"
    GONE_CONGESTION = "gone: congestion"
    GONE_FAILED = "gone: failed"
    """Gone with any other cause, or unanswered while the network did not work."""


@dataclass(frozen=True)
class Moved:
    phase: CallPhase
    outcome: CallOutcome | None = None
    """How the call ended (only when `phase` is ENDED); None: not charged."""


_P, _E, _O = CallPhase, CallEvent, CallOutcome

GONE: dict[CallEvent, CallOutcome] = {
    _E.GONE_NO_ANSWER: _O.NO_ANSWER,
    _E.GONE_BUSY: _O.BUSY,
    _E.GONE_UNALLOCATED: _O.UNALLOCATED,
    _E.GONE_REJECTED: _O.REJECTED,
    _E.GONE_CONGESTION: _O.CONGESTION,
    _E.GONE_FAILED: _O.FAILED,
}
"""The voter's channel gone, by cause: the outcome of a call that was never answered."""

HUNG_UP: dict[CallPhase, CallOutcome] = {
    _P.CLAIMED: _O.FAILED,
    _P.ANSWERED: _O.HUNG_UP_DURING_AMD,
    _P.HANGING_UP: _O.MACHINE,
    _P.FAILING: _O.FAILED,
    _P.CONNECTING: _O.ABANDONED,
    _P.CONNECTED: _O.CONTACT,
    _P.ABANDONING: _O.ABANDONED,
    _P.LEAVING_VOICEMAIL: _O.VOICEMAIL_LEFT,
}
"""The voter's channel gone after an answer, whatever the cause: the outcome by phase."""

LOST_AS: dict[CallPhase, CallOutcome] = {
    _P.HANGING_UP: _O.MACHINE,
    _P.CONNECTING: _O.ABANDONED,
    _P.CONNECTED: _O.CONTACT,
    _P.ABANDONING: _O.ABANDONED,
    _P.LEAVING_VOICEMAIL: _O.MACHINE,
}
"""A call lost by our failure, by phase; any other phase is not charged."""

_VERDICTS = {
    _E.HUMAN: _P.CONNECTING,
    _E.MACHINE: _P.HANGING_UP,
    _E.VOICEMAIL_STARTED: _P.LEAVING_VOICEMAIL,
    _E.DEAD_AIR: _P.FAILING,
}
_UNCHARGED = (_P.CLAIMED, _P.RINGING, _P.ANSWERED, _P.HANGING_UP, _P.FAILING)
_LIVE = [p for p in CallPhase if p is not _P.ENDED]


def _table() -> dict[tuple[CallPhase, CallEvent], Moved]:
    table: dict[tuple[CallPhase, CallEvent], Moved] = {
        (_P.CLAIMED, _E.ORIGINATED): Moved(_P.RINGING),
        (_P.RINGING, _E.FAILED): Moved(_P.ENDED, _O.FAILED),
        (_P.RINGING, _E.ANSWERED): Moved(_P.ANSWERED),
        (_P.RINGING, _E.NOT_PUT_THROUGH): Moved(_P.FAILING),
        (_P.RINGING, _E.RELEASED): Moved(_P.ENDED, _O.NO_ANSWER),
        (_P.CONNECTING, _E.VOLUNTEER_FOUND): Moved(_P.CONNECTED),
        (_P.CONNECTING, _E.NO_VOLUNTEER): Moved(_P.ABANDONING),
    }
    for phase in (_P.RINGING, _P.ANSWERED):  # a verdict may overtake the Up state change
        for event, after in _VERDICTS.items():
            table[phase, event] = Moved(after)
    for phase in (_P.CONNECTING, _P.CONNECTED):  # early connect: a machine after all
        table[phase, _E.MACHINE] = Moved(_P.HANGING_UP)
        table[phase, _E.VOICEMAIL_STARTED] = Moved(_P.LEAVING_VOICEMAIL)
    for phase in _UNCHARGED:
        table[phase, _E.GIVEN_BACK] = Moved(_P.ENDED)
    for phase in _LIVE:
        table[phase, _E.LOST] = Moved(_P.ENDED, LOST_AS.get(phase))
        for event, unanswered in GONE.items():
            table[phase, event] = Moved(_P.ENDED, HUNG_UP.get(phase, unanswered))
    for event in GONE:  # Asterisk may report one hang-up twice
        table[_P.ENDED, event] = Moved(_P.ENDED)
    return table


TRANSITIONS = _table()
"""Every legal move: (phase, event) → next phase and outcome. ENDED is final."""


def next_state(phase: CallPhase, event: CallEvent) -> Moved:
    """The phase after `event`, and the outcome when it ends the call.

    Raises IllegalTransition if the event does not apply."""
    try:
        return TRANSITIONS[phase, event]
    except KeyError:
        raise IllegalTransition(
            f"a call in phase {phase.value!r} cannot take event {event.value!r}"
        ) from None


def gone_event(cause: int, *, rang: bool, trunk_down: bool) -> CallEvent:
    """The event of the voter's channel going away with Q.850 `cause`. "No answer" needs the
    carrier to have answered the INVITE at all: a call that never rang met a silent network,
    and so did one ending while the trunk is down — our failure, not the voter's."""
    outcome = outcome_for_cause(cause)
    if outcome == CallOutcome.NO_ANSWER and (not rang or trunk_down):
        return CallEvent.GONE_FAILED
    return next(event for event, value in GONE.items() if value == outcome)
