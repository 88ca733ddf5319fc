"""How many calls the dialer should place right now: a pure, pluggable policy.

The dialer loop builds a `PacingState` from the store and live calls, asks the campaign's
`Pacing` how many new calls to place, and claims that many voters. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from engine.errors import InvalidInput
from engine.models import Campaign


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


def _power(campaign: Campaign) -> Pacing:
    return PowerPacing(campaign.lines_per_volunteer)


DIAL_MODES: dict[str, Callable[[Campaign], Pacing]] = {"power": _power}
"""Each dial mode a campaign may choose, and how to build its pacing."""


def pacing_for(campaign: Campaign) -> Pacing:
    """The pacing policy for the campaign's dial mode.

    Raises InvalidInput for an unknown dial mode (naming the valid ones) or a bad setting.
    """
    build = DIAL_MODES.get(campaign.dial_mode)
    if build is None:
        valid = ", ".join(sorted(DIAL_MODES))
        raise InvalidInput(
            f"campaign {campaign.name!r} has dial mode {campaign.dial_mode!r}; "
            f"valid dial modes: {valid}"
        )
    return build(campaign)
