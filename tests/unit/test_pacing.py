from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pytest

from engine.dialer.modes import pacing_for
from engine.dialer.pacing.base import AbandonGuard, PacingState, PowerPacing
from engine.dialer.pacing.model import PacingModel
from engine.dialer.pacing.policies import PredictivePacing, VicidialAdaptivePacing
from engine.errors import InvalidInput
from engine.models import Campaign, DialMode


def state(
    ready: int = 1,
    in_flight: int = 0,
    connecting: int = 0,
    voters: int = 100,
    live_answers: int = 0,
    abandons: int = 0,
    contact_high: float = 0.1,
) -> PacingState:
    """A campaign whose calls showed people answer at most `contact_high` of them."""
    return PacingState(
        ready_volunteers=ready,
        in_flight=in_flight,
        connecting=connecting,
        voters_available=voters,
        live_answers=live_answers,
        abandons=abandons,
        contact_rate_high=contact_high,
    )


def test_no_volunteers_places_no_calls() -> None:
    assert PowerPacing(3).calls_to_place(state(ready=0)) == 0


def test_everyone_in_wrap_up_places_no_calls() -> None:
    """Volunteers in wrap-up are not ready, so they count as zero ready volunteers."""
    assert PowerPacing(2).calls_to_place(state(ready=0, in_flight=0)) == 0


def test_exhausted_list_places_no_calls() -> None:
    assert PowerPacing(2).calls_to_place(state(ready=5, voters=0)) == 0


def test_places_lines_per_volunteer_for_each_ready_volunteer() -> None:
    assert PowerPacing(3).calls_to_place(state(ready=4)) == 12


def test_calls_in_flight_and_connecting_count_against_the_target() -> None:
    assert PowerPacing(3).calls_to_place(state(ready=4, in_flight=5, connecting=2)) == 5


def test_capped_by_voters_available() -> None:
    assert PowerPacing(3).calls_to_place(state(ready=4, voters=7)) == 7


def test_never_negative_when_more_calls_are_in_flight_than_wanted() -> None:
    assert PowerPacing(1).calls_to_place(state(ready=1, in_flight=4, connecting=3)) == 0


def test_lines_per_volunteer_below_one_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="at least 1"):
        PowerPacing(0)


def test_pacing_for_power_campaign_uses_its_lines_per_volunteer() -> None:
    pacing = pacing_for(Campaign(id=1, name="c", dial_mode=DialMode.POWER, lines_per_volunteer=2))
    assert pacing == AbandonGuard(PowerPacing(2))  # over-dials, so it answers to the budget
    one_line = pacing_for(Campaign(id=1, name="c", dial_mode=DialMode.POWER, lines_per_volunteer=1))
    assert one_line == PowerPacing(1)


def test_pacing_for_unknown_dial_mode_names_the_valid_ones() -> None:
    with pytest.raises(InvalidInput, match=r"'turbo'.*valid dial modes: predictive, power"):
        pacing_for(Campaign(id=1, name="c", dial_mode=cast(DialMode, "turbo")))


def test_predictive_campaign_gets_its_target_and_cap_under_a_guard() -> None:
    campaign = Campaign(
        id=1, name="c", dial_mode=DialMode.PREDICTIVE, abandon_target=2.0, max_lines_per_volunteer=5
    )
    model = PacingModel(person_rate=0.2)
    pacing = pacing_for(campaign, model)
    assert isinstance(pacing, AbandonGuard)
    assert isinstance(pacing.inner, PredictivePacing)
    assert pacing.inner.model == model
    assert (pacing.inner.target_abandon, pacing.inner.max_lines_per_volunteer) == (0.02, 5.0)


def test_adaptive_campaign_follows_vicidial_maximum_level_and_drop_limit() -> None:
    pacing = pacing_for(Campaign(id=1, name="c", dial_mode=DialMode.ADAPTIVE, abandon_target=2.5))
    assert isinstance(pacing, AbandonGuard)
    assert isinstance(pacing.inner, VicidialAdaptivePacing)
    assert (pacing.inner.maximum_level, pacing.inner.dropped_percentage) == (3.0, 2.5)


def test_preview_campaign_places_no_automatic_calls() -> None:
    pacing = pacing_for(Campaign(id=1, name="c", dial_mode=DialMode.PREVIEW))
    assert pacing.calls_to_place(state(ready=5)) == 0


@dataclass(frozen=True)
class Eager:
    """A policy that always wants ten more calls."""

    def calls_to_place(self, state: PacingState) -> int:
        return 10


def test_guard_passes_calls_through_while_budget_is_left() -> None:
    guarded = AbandonGuard(Eager())
    assert guarded.calls_to_place(state(ready=2, live_answers=1000, abandons=32)) == 10


def test_guard_keeps_one_line_per_ready_volunteer_once_the_budget_is_spent() -> None:
    guarded = AbandonGuard(Eager())
    spent = state(ready=4, in_flight=1, live_answers=1000, abandons=33)  # 3 % of 1000 + 100
    assert guarded.budget(spent) <= 0.0
    assert guarded.calls_to_place(spent) == 3


def test_guard_lends_a_new_campaign_a_few_abandons() -> None:
    guarded = AbandonGuard(Eager())
    assert guarded.calls_to_place(state(ready=1, live_answers=0, abandons=0)) == 10
    assert guarded.calls_to_place(state(ready=1, live_answers=3, abandons=2)) == 10
    assert guarded.calls_to_place(state(ready=1, live_answers=4, abandons=4)) == 1


def test_guard_never_places_calls_the_inner_policy_does_not_want() -> None:
    guarded = AbandonGuard(PowerPacing(1))
    assert guarded.calls_to_place(state(ready=0, live_answers=10, abandons=9)) == 0
