from __future__ import annotations

import pytest

from engine.errors import InvalidInput
from engine.models import Campaign
from engine.pacing import PacingState, PowerPacing, pacing_for


def state(ready=1, in_flight=0, connecting=0, voters=100) -> PacingState:
    return PacingState(
        ready_volunteers=ready, in_flight=in_flight, connecting=connecting, voters_available=voters
    )


def test_no_volunteers_places_no_calls():
    assert PowerPacing(3).calls_to_place(state(ready=0)) == 0


def test_everyone_in_wrap_up_places_no_calls():
    """Volunteers in wrap-up are not ready, so they count as zero ready volunteers."""
    assert PowerPacing(2).calls_to_place(state(ready=0, in_flight=0)) == 0


def test_exhausted_list_places_no_calls():
    assert PowerPacing(2).calls_to_place(state(ready=5, voters=0)) == 0


def test_places_lines_per_volunteer_for_each_ready_volunteer():
    assert PowerPacing(3).calls_to_place(state(ready=4)) == 12


def test_calls_in_flight_and_connecting_count_against_the_target():
    assert PowerPacing(3).calls_to_place(state(ready=4, in_flight=5, connecting=2)) == 5


def test_capped_by_voters_available():
    assert PowerPacing(3).calls_to_place(state(ready=4, voters=7)) == 7


def test_never_negative_when_more_calls_are_in_flight_than_wanted():
    assert PowerPacing(1).calls_to_place(state(ready=1, in_flight=4, connecting=3)) == 0


def test_lines_per_volunteer_below_one_is_rejected():
    with pytest.raises(InvalidInput, match="at least 1"):
        PowerPacing(0)


def test_pacing_for_power_campaign_uses_its_lines_per_volunteer():
    pacing = pacing_for(Campaign(id=1, name="c", dial_mode="power", lines_per_volunteer=2))
    assert pacing == PowerPacing(2)


def test_pacing_for_unknown_dial_mode_names_the_valid_ones():
    with pytest.raises(InvalidInput, match=r"'predictive'.*valid dial modes: power"):
        pacing_for(Campaign(id=1, name="c", dial_mode="predictive"))
