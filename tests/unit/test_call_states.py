"""The one state table of calls to voters (engine/calls/states.py), checked exhaustively."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from engine.calls.lost_calls import lost_outcome
from engine.calls.states import (
    GONE,
    HUNG_UP,
    TRANSITIONS,
    CallEvent,
    CallPhase,
    IllegalTransition,
    Moved,
    gone_event,
    next_state,
)
from engine.errors import PhonebankError
from engine.models import CallOutcome, CallState

P, E, Out = CallPhase, CallEvent, CallOutcome

STEPS: list[tuple[CallPhase, CallEvent, CallPhase]] = [
    (P.CLAIMED, E.ORIGINATED, P.RINGING),
    (P.RINGING, E.ANSWERED, P.ANSWERED),
    (P.RINGING, E.NOT_PUT_THROUGH, P.FAILING),
    (P.CONNECTING, E.VOLUNTEER_FOUND, P.CONNECTED),
    (P.CONNECTING, E.NO_VOLUNTEER, P.ABANDONING),
    # Early connect: the streaming detector says MACHINE after the voter was put through.
    (P.CONNECTING, E.MACHINE, P.HANGING_UP),
    (P.CONNECTED, E.MACHINE, P.HANGING_UP),
    (P.CONNECTING, E.VOICEMAIL_STARTED, P.LEAVING_VOICEMAIL),
    (P.CONNECTED, E.VOICEMAIL_STARTED, P.LEAVING_VOICEMAIL),
]
"""Moves that do not end the call (verdicts are listed apart)."""

VERDICTS: list[tuple[CallEvent, CallPhase]] = [
    (E.HUMAN, P.CONNECTING),
    (E.MACHINE, P.HANGING_UP),
    (E.VOICEMAIL_STARTED, P.LEAVING_VOICEMAIL),
    (E.DEAD_AIR, P.FAILING),
]

ENDINGS: list[tuple[CallPhase, CallEvent, CallOutcome | None]] = [
    (P.RINGING, E.FAILED, Out.FAILED),
    (P.RINGING, E.RELEASED, Out.NO_ANSWER),
    *[(p, E.GIVEN_BACK, None) for p in (P.CLAIMED, P.RINGING, P.ANSWERED)],
    *[(p, E.GIVEN_BACK, None) for p in (P.HANGING_UP, P.FAILING)],
    *[(p, E.LOST, None) for p in (P.CLAIMED, P.RINGING, P.ANSWERED, P.FAILING)],
    (P.HANGING_UP, E.LOST, Out.MACHINE),
    (P.CONNECTING, E.LOST, Out.ABANDONED),
    (P.CONNECTED, E.LOST, Out.CONTACT),
    (P.ABANDONING, E.LOST, Out.ABANDONED),
    (P.LEAVING_VOICEMAIL, E.LOST, Out.MACHINE),
    # Unanswered: the hang-up cause decides.
    (P.RINGING, E.GONE_NO_ANSWER, Out.NO_ANSWER),
    (P.RINGING, E.GONE_BUSY, Out.BUSY),
    (P.RINGING, E.GONE_UNALLOCATED, Out.UNALLOCATED),
    (P.RINGING, E.GONE_REJECTED, Out.REJECTED),
    (P.RINGING, E.GONE_CONGESTION, Out.CONGESTION),
    (P.RINGING, E.GONE_FAILED, Out.FAILED),
    # Answered (or never placed): the phase decides, whatever the cause.
    *[(P.CLAIMED, e, Out.FAILED) for e in GONE],
    *[(P.ANSWERED, e, Out.HUNG_UP_DURING_AMD) for e in GONE],
    *[(P.HANGING_UP, e, Out.MACHINE) for e in GONE],
    *[(P.FAILING, e, Out.FAILED) for e in GONE],
    *[(P.CONNECTING, e, Out.ABANDONED) for e in GONE],
    *[(P.CONNECTED, e, Out.CONTACT) for e in GONE],
    *[(P.ABANDONING, e, Out.ABANDONED) for e in GONE],
    *[(P.LEAVING_VOICEMAIL, e, Out.VOICEMAIL_LEFT) for e in GONE],
    # Asterisk may report one hang-up twice: the second changes nothing.
    *[(P.ENDED, e, None) for e in GONE],
]

EXPECTED: dict[tuple[CallPhase, CallEvent], Moved] = {
    **{(p, e): Moved(after) for p, e, after in STEPS},
    **{(p, e): Moved(after) for p in (P.RINGING, P.ANSWERED) for e, after in VERDICTS},
    **{(p, e): Moved(P.ENDED, outcome) for p, e, outcome in ENDINGS},
}


@pytest.mark.parametrize(("phase", "event"), sorted(EXPECTED))
def test_legal_move(phase: CallPhase, event: CallEvent) -> None:
    assert next_state(phase, event) == EXPECTED[phase, event]


def test_the_table_has_exactly_the_expected_moves() -> None:
    assert set(TRANSITIONS) == set(EXPECTED)


ILLEGAL = [k for k in itertools.product(CallPhase, CallEvent) if k not in EXPECTED]


@pytest.mark.parametrize(("phase", "event"), ILLEGAL)
def test_every_other_move_is_rejected(phase: CallPhase, event: CallEvent) -> None:
    with pytest.raises(IllegalTransition):
        next_state(phase, event)


def test_ended_is_final() -> None:
    for (phase, _), moved in TRANSITIONS.items():
        if phase is P.ENDED:
            assert moved == Moved(P.ENDED)


def test_only_an_ended_call_has_an_outcome() -> None:
    for moved in TRANSITIONS.values():
        assert moved.outcome is None or moved.phase is P.ENDED


def test_a_verdict_after_the_hang_up_is_rejected_not_applied() -> None:
    for event, _ in VERDICTS:
        with pytest.raises(IllegalTransition):
            next_state(P.ENDED, event)


def test_a_verdict_may_overtake_the_answer() -> None:
    """AMD's verdict applies whether or not the line's Up state change was seen first."""
    for event, after in VERDICTS:
        assert next_state(P.RINGING, event) == next_state(P.ANSWERED, event) == Moved(after)


def test_every_phase_hung_up_after_an_answer_has_one_outcome() -> None:
    assert set(HUNG_UP) == set(CallPhase) - {P.RINGING, P.ENDED}


def test_illegal_move_names_phase_and_event() -> None:
    with pytest.raises(IllegalTransition, match=r"'ended'.*'originated'"):
        next_state(P.ENDED, E.ORIGINATED)


def test_illegal_transition_is_a_phonebank_error() -> None:
    assert issubclass(IllegalTransition, PhonebankError)


@pytest.mark.parametrize(
    ("phase", "stored"),
    [
        (P.CLAIMED, CallState.CLAIMED),
        (P.RINGING, CallState.DIALING),
        (P.ANSWERED, CallState.DIALING),
        (P.HANGING_UP, CallState.DIALING),
        (P.FAILING, CallState.DIALING),
        (P.CONNECTING, CallState.CONNECTING),
        (P.CONNECTED, CallState.CONNECTED),
        (P.ABANDONING, CallState.ABANDONING),
        (P.LEAVING_VOICEMAIL, CallState.LEAVING_VOICEMAIL),
        (P.ENDED, CallState.ENDED),
    ],
)
def test_each_phase_is_stored_as_a_call_state(phase: CallPhase, stored: CallState) -> None:
    assert phase.stored is stored


@pytest.mark.parametrize(
    ("cause", "rang", "trunk_down", "event"),
    [
        (16, True, False, E.GONE_NO_ANSWER),
        (19, True, False, E.GONE_NO_ANSWER),
        (17, True, False, E.GONE_BUSY),
        (1, True, False, E.GONE_UNALLOCATED),
        (21, True, False, E.GONE_REJECTED),
        (34, True, False, E.GONE_CONGESTION),
        (0, True, False, E.GONE_FAILED),
        (16, False, False, E.GONE_FAILED),  # never rang: a silent network
        (19, True, True, E.GONE_FAILED),  # the trunk is down
        (17, False, True, E.GONE_BUSY),  # a busy signal is the voter's line all the same
    ],
)
def test_gone_event_reads_the_hang_up_cause(
    cause: int, rang: bool, trunk_down: bool, event: CallEvent
) -> None:
    assert gone_event(cause, rang=rang, trunk_down=trunk_down) is event


def test_no_dead_events() -> None:
    """Every event is in the table, and the engine fires each one (the GONE ones through
    gone_event)."""
    assert {e for _, e in TRANSITIONS} == set(CallEvent)
    calls = Path(__file__).parents[2] / "engine" / "calls"
    source = "\n".join(p.read_text() for p in calls.glob("*.py") if p.name != "states.py")
    for event in set(CallEvent) - set(GONE):
        assert f"CallEvent.{event.name}" in source, event


LOST_CASES = [
    *[(p, "") for p in (P.CLAIMED, P.RINGING, P.ANSWERED, P.FAILING)],
    (P.HANGING_UP, "MACHINE"),
    *[(p, v) for p in (P.CONNECTING, P.ABANDONING) for v in ("HUMAN", "NOTSURE")],
    (P.CONNECTED, "HUMAN"),
    (P.LEAVING_VOICEMAIL, "MACHINE"),
]


@pytest.mark.parametrize(("phase", "verdict"), LOST_CASES)
def test_a_lost_call_is_charged_as_an_attempt_left_by_an_earlier_run(
    phase: CallPhase, verdict: str
) -> None:
    """The live table and lost_calls.lost_outcome (for attempts with no live call) agree."""
    stored = lost_outcome(phase.stored, verdict, phase is P.CONNECTED, connect_notsure=True)
    assert next_state(phase, E.LOST).outcome == stored
