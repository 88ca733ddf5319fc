"""Which pacing policy each dial mode uses, built from the campaign's settings and what
pacing has learned about its calls."""

from __future__ import annotations

from collections.abc import Callable

from engine.dialer.pacing.base import AbandonGuard, Pacing, PowerPacing
from engine.dialer.pacing.half_hour import HALF_HOUR_LIMIT
from engine.dialer.pacing.model import PacingModel
from engine.dialer.pacing.policies import PredictivePacing, PreviewPacing, VicidialAdaptivePacing
from engine.errors import InvalidInput
from engine.models import Campaign, DialMode


def _power(campaign: Campaign, model: PacingModel) -> Pacing:
    policy = PowerPacing(campaign.lines_per_volunteer)
    return policy if campaign.lines_per_volunteer == 1 else AbandonGuard(policy)


def _predictive(campaign: Campaign, model: PacingModel) -> Pacing:
    policy = PredictivePacing(
        model=model,
        target_abandon=campaign.abandon_target / 100.0,
        max_lines_per_volunteer=float(campaign.max_lines_per_volunteer),
        window_limit=HALF_HOUR_LIMIT if campaign.half_hour_guard else 0.0,
    )
    return AbandonGuard(policy)


def _adaptive(campaign: Campaign, model: PacingModel) -> Pacing:
    policy = VicidialAdaptivePacing(
        maximum_level=float(min(campaign.max_lines_per_volunteer, 3)),
        dropped_percentage=campaign.abandon_target,
    )
    return AbandonGuard(policy)


def _preview(campaign: Campaign, model: PacingModel) -> Pacing:
    return PreviewPacing()


DIAL_MODES: dict[DialMode, Callable[[Campaign, PacingModel], Pacing]] = {
    DialMode.PREDICTIVE: _predictive,
    DialMode.POWER: _power,
    DialMode.ADAPTIVE: _adaptive,
    DialMode.PREVIEW: _preview,
}
"""Each dial mode a campaign may choose, and how to build its pacing (in the order the
campaign form and error messages list them)."""

DIAL_MODE_LABELS: dict[DialMode, str] = {
    DialMode.PREDICTIVE: "Predictive: the dialer paces calls to keep volunteers busy (recommended)",
    DialMode.POWER: "Power: a fixed number of lines for every ready volunteer",
    DialMode.ADAPTIVE: "Adaptive: VICIdial-style dial level, adjusted every 15 seconds",
    DialMode.PREVIEW: "Preview: the volunteer sees the voter first and presses Call",
}
"""What the campaign form says about each dial mode, in the order it lists them."""


def pacing_for(campaign: Campaign, model: PacingModel | None = None) -> Pacing:
    """The pacing policy for the campaign's dial mode, given what was learned (`model`;
    the reference defaults when nothing was learned yet).

    Raises InvalidInput for an unknown dial mode (naming the valid ones) or a bad setting.
    """
    build = DIAL_MODES.get(campaign.dial_mode)
    if build is None:
        valid = ", ".join(DIAL_MODES)
        raise InvalidInput(
            f"campaign {campaign.name!r} has dial mode {campaign.dial_mode!r}; "
            f"valid dial modes: {valid}"
        )
    return build(campaign, model or PacingModel())
