"""Q.850 hangup causes → outcomes, for calls that were never answered. One table.

Answered calls get their outcome from what happened after the answer (contact, machine,
abandoned...), not from the hangup cause.
"""

from __future__ import annotations

from engine.models import CallOutcome

_O = CallOutcome

CAUSE_OUTCOMES: dict[int, CallOutcome] = {
    1: _O.UNALLOCATED,
    3: _O.UNALLOCATED,
    16: _O.NO_ANSWER,
    # Normal clearing before an answer: the dialer hung up after the ring timeout.
    17: _O.BUSY,
    18: _O.NO_ANSWER,
    19: _O.NO_ANSWER,
    21: _O.REJECTED,
    34: _O.CONGESTION,
    38: _O.CONGESTION,
    41: _O.CONGESTION,
    42: _O.CONGESTION,
}
"""Causes with a specific outcome; any other cause (0 included) is FAILED."""

CAUSE_NAMES: dict[int, str] = {
    0: "not set",
    1: "unallocated number",
    2: "no route to transit network",
    3: "no route to destination",
    16: "normal clearing",
    17: "busy",
    18: "no user responding",
    19: "no answer",
    20: "subscriber absent",
    21: "call rejected",
    22: "number changed",
    27: "destination out of order",
    28: "invalid number format",
    29: "facility rejected",
    31: "normal, unspecified",
    34: "no circuit available",
    38: "network out of order",
    41: "temporary failure",
    42: "switching equipment congestion",
    44: "requested channel not available",
    47: "resource unavailable",
    58: "bearer capability not available",
    102: "recovery on timer expiry",
    127: "interworking, unspecified",
}
"""Short Q.850 names for display."""


def outcome_for_cause(cause: int) -> CallOutcome:
    """The outcome of an unanswered call that ended with this Q.850 cause."""
    return CAUSE_OUTCOMES.get(cause, CallOutcome.FAILED)


def describe_cause(cause: int) -> str:
    """The cause for display, e.g. "17 busy"."""
    return f"{cause} {CAUSE_NAMES.get(cause, 'unknown cause')}"
