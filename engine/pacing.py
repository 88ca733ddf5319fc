"""How many calls the dialer should place right now: a pure, pluggable policy.

The dialer loop builds a `PacingState` from the store and live calls, asks the campaign's
`Pacing` how many new calls to place, and claims that many voters. Nothing here does I/O.
engine/dial_modes.py picks the policy for a campaign; engine/pacing_policies.py holds the
adaptive, predictive and preview policies.
"""

from __future__ import annotations

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

    # Optional detail for the adaptive and predictive policies (engine/pacing_policies.py);
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


@dataclass(frozen=True)
class AbandonGuard:
    """Wraps an over-dialing policy so it never spends more abandons than its budget.

    The budget is `limit` times the live answers of the rolling 30 days (plus
    `prior_answers`, so a new campaign may risk its first abandons). Once the abandons reach
    it, only calls a ready volunteer is already waiting for are placed (one line per ready
    volunteer, counting calls already going), which abandons nobody while volunteers stay
    ready; over-dialing resumes as live answers earn the budget back.
    """

    inner: Pacing
    limit: float = ABANDON_LIMIT
    prior_answers: float = PRIOR_ANSWERS

    def budget(self, state: PacingState) -> float:
        """Abandons still allowed (negative when overspent)."""
        return abandon_budget(state.live_answers, state.abandons, self.limit, self.prior_answers)

    def calls_to_place(self, state: PacingState) -> int:
        wanted = self.inner.calls_to_place(state)
        if self.budget(state) > 0.0:
            return wanted
        safe = state.ready_volunteers - state.in_flight - state.connecting
        return max(0, min(wanted, safe, state.voters_available))
