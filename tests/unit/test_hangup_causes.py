from __future__ import annotations

import pytest

from engine.calls.causes import CAUSE_NAMES, describe_cause, outcome_for_cause
from engine.models import CallOutcome as O


@pytest.mark.parametrize(
    ("cause", "outcome"),
    [
        (17, O.BUSY),
        (18, O.NO_ANSWER),
        (19, O.NO_ANSWER),
        (1, O.UNALLOCATED),
        (3, O.UNALLOCATED),
        (21, O.REJECTED),
        (34, O.CONGESTION),
        (38, O.CONGESTION),
        (41, O.CONGESTION),
        (42, O.CONGESTION),
    ],
)
def test_cause_maps_to_outcome(cause: int, outcome: O) -> None:
    assert outcome_for_cause(cause) is outcome


def test_normal_clearing_before_answer_is_no_answer() -> None:
    """The dialer itself hangs up with cause 16 when the ring timeout passes."""
    assert outcome_for_cause(16) is O.NO_ANSWER


@pytest.mark.parametrize("cause", [0, 27, 127, 999])
def test_unset_or_other_cause_is_failed(cause: int) -> None:
    assert outcome_for_cause(cause) is O.FAILED


def test_describe_cause_gives_number_and_name() -> None:
    assert describe_cause(17) == "17 busy"


def test_describe_unknown_cause() -> None:
    assert describe_cause(999) == "999 unknown cause"


def test_every_mapped_cause_has_a_name() -> None:
    for cause in (1, 3, 16, 17, 18, 19, 21, 34, 38, 41, 42):
        assert cause in CAUSE_NAMES
