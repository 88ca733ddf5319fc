"""How many calls the dialer should place right now: a pure, pluggable policy.

The dialer loop builds a `PacingState` from the store and live calls, asks the campaign's
`Pacing` how many new calls to place, and claims that many voters. Nothing here does I/O.
engine/dialer/modes.py picks the policy for a campaign; engine/dialer/pacing/policies.py holds the
adaptive, predictive and preview policies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from engine.errors import InvalidInput


@dataclass(frozen=True)
class PacingState:
    """A snapshot of one campaign, taken by the dialer loop."""

    ready_volunteers: int
    """Volunteers READY and not yet matched to a call."""
    in_flight: int
    """Calls dialing, ringing or in answering-machine detection: not yet connected."""
    connecting: int
    """Live answers waiting for a volunteer."""
    voters_available: int
    """Callable voters left (a lower bound is fine); 0 means the list is exhausted."""

    # Optional detail for the adaptive and predictive policies (engine/dialer/pacing/policies.py);
    # the power policy ignores it, and the defaults describe "nothing known".
    now: float = 0.0
    """Monotonic seconds; policies that adjust on a clock (VICIdial-style) read it."""
    talking_elapsed: tuple[float, ...] = ()
    """For each volunteer on a call, seconds since the call was bridged."""
    wrap_up_elapsed: tuple[float, ...] = ()
    """For each volunteer in wrap-up, seconds since the call ended."""
    ringing_elapsed: tuple[float, ...] = ()
    """For each call dialing or ringing (part of in_flight), seconds since it was placed."""
    amd_elapsed: tuple[float, ...] = ()
    """For each call in answering-machine detection (part of in_flight), seconds in AMD."""
    live_answers: int = 0
    """People who answered this shift (connected or abandoned): the abandon rate's base."""
    abandons: int = 0
    """Of those, how many no volunteer took within the 2-second rule."""
    contact_rate_high: float = 1.0
    """The highest share of calls a person may plausibly answer, given the calls seen so far
    (`contact_rate_ceiling`); 1.0 when nothing is known: any call may be a person."""
    window_live_answers: int = 0
    """People who answered in the last half hour (read only for a campaign with the half-hour
    guard, engine/dialer/pacing/half_hour.py)."""
    window_abandons: int = 0
    """Of those, how many were abandoned."""


class Pacing(Protocol):
    def calls_to_place(self, state: PacingState) -> int:
        """How many new calls to place now; never negative."""
        ...


@dataclass(frozen=True)
class PowerPacing:
    """Keep `lines_per_volunteer` calls going for every ready volunteer.

    Calls already dialing and live answers still waiting for a volunteer count against the
    target, so a burst of answers does not make the dialer place even more calls.
    """

    lines_per_volunteer: int

    def __post_init__(self) -> None:
        if self.lines_per_volunteer < 1:
            raise InvalidInput(
                f"lines per volunteer must be at least 1, not {self.lines_per_volunteer}"
            )

    def calls_to_place(self, state: PacingState) -> int:
        target = max(0, state.ready_volunteers) * self.lines_per_volunteer
        wanted = target - state.in_flight - state.connecting
        return max(0, min(wanted, state.voters_available))


ABANDON_LIMIT = 0.03
"""The most a campaign may abandon: 3 % of live answers over a rolling 30 days."""
PRIOR_ANSWERS = 100.0
"""Live answers a new campaign is credited with: it may risk three abandons before answered
calls earn more. Without them one unlucky minute (two people answering at once while every
volunteer talks) would stop a new campaign's over-dialing for an hour; bench/pacing measured
that a credit of 20 cost 10 % of the contacts at 5 volunteers, and 100 costs nothing there."""


def abandon_budget(
    live_answers: int, abandons: int, limit: float = ABANDON_LIMIT, prior: float = PRIOR_ANSWERS
) -> float:
    """Abandons still allowed under `limit` (negative when overspent)."""
    return limit * (live_answers + prior) - abandons


CONFIDENCE_Z = 1.645
"""One-sided 95 %: the contact rate's ceiling is the rate the calls seen make unlikely to be
exceeded 19 times in 20."""
CONTACT_RATE_FLOOR = 0.01
"""The ceiling never goes below this, so the limits below stay finite."""


def contact_rate_ceiling(people: int, calls: int) -> float:
    """The Wilson upper bound (one-sided 95 %) of the share of calls a person answers, having
    seen `people` among `calls` calls that rang through (answered or rung out); 1.0 with no
    calls seen. A new campaign knows nothing about its list (a list of supporters can answer
    three times as often as the reference 10 %), so it must not over-dial on a guess."""
    if calls <= 0:
        return 1.0
    n, z2 = float(calls), CONFIDENCE_Z * CONFIDENCE_Z
    p = min(1.0, max(0.0, people / n))
    centre = p + z2 / (2.0 * n)
    spread = CONFIDENCE_Z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    return min(1.0, max(CONTACT_RATE_FLOOR, (centre + spread) / (1.0 + z2 / n)))


@dataclass(frozen=True)
class AbandonGuard:
    """Wraps an over-dialing policy so it never spends more abandons than its budget.

    The budget is `limit` times the live answers of the rolling 30 days (plus
    `prior_answers`, so a new campaign may risk its first abandons). Once the abandons reach
    it, only calls a ready volunteer is already waiting for are placed (one line per ready
    volunteer, counting calls already going), which abandons nobody while volunteers stay
    ready; over-dialing resumes as live answers earn the budget back.

    While budget is left, the guard also holds within a round (`round_cap`): every line
    beyond one per volunteer signed in is a potential abandon, should a person answer it
    (at most `contact_rate_high` of them will), and those potential abandons, counting calls
    already in flight, may not exceed the budget left; and one decision places at most the
    calls it takes, at that rate, to find a person for every ready volunteer and one more.
    A campaign that has seen no calls (ceiling 1.0) so starts at one line per volunteer plus
    its few abandons of credit, and widens as calls show how often people answer and as live
    answers earn budget.
    """

    inner: Pacing
    limit: float = ABANDON_LIMIT
    prior_answers: float = PRIOR_ANSWERS

    def budget(self, state: PacingState) -> float:
        """Abandons still allowed (negative when overspent)."""
        return abandon_budget(state.live_answers, state.abandons, self.limit, self.prior_answers)

    def calls_to_place(self, state: PacingState) -> int:
        wanted = self.inner.calls_to_place(state)
        lines = state.in_flight + state.connecting
        budget = self.budget(state)
        cap = self.round_cap(state, budget) if budget > 0.0 else state.ready_volunteers - lines
        return max(0, min(wanted, cap, state.voters_available))

    def round_cap(self, state: PacingState, budget: float) -> int:
        """The most new calls whose potential abandons, with those of the calls already in
        flight, fit in `budget`; and at most one decision's worth."""
        rate = min(1.0, max(CONTACT_RATE_FLOOR, state.contact_rate_high))
        volunteers = (
            state.ready_volunteers + len(state.talking_elapsed) + len(state.wrap_up_elapsed)
        )
        lines = state.in_flight + state.connecting
        exposure_cap = volunteers + math.floor(budget / rate + 1e-9) - lines
        decision_cap = math.ceil((max(0, state.ready_volunteers) + 1) / rate - 1e-9)
        return min(exposure_cap, decision_cap)
