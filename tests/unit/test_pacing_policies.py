from __future__ import annotations

import json
from typing import Any

import pytest

from engine.dialer.pacing.base import PacingState
from engine.dialer.pacing.model import LogNormal, PacingModel
from engine.dialer.pacing.policies import PredictivePacing, PreviewPacing, VicidialAdaptivePacing
from engine.errors import InvalidInput


def state(**kw: Any) -> PacingState:
    base: dict[str, Any] = dict(
        ready_volunteers=0, in_flight=0, connecting=0, voters_available=1000
    )
    base.update(kw)
    return PacingState(**base)


# Preview


def test_preview_never_places_automatic_calls() -> None:
    assert PreviewPacing().calls_to_place(state(ready_volunteers=10)) == 0


# VICIdial-style adaptive


def test_vicidial_starts_at_one_line_per_active_volunteer() -> None:
    policy = VicidialAdaptivePacing()
    assert policy.calls_to_place(state(ready_volunteers=4)) == 4


def test_vicidial_counts_every_live_call_against_the_goal() -> None:
    policy = VicidialAdaptivePacing(level=2.0)
    s = state(ready_volunteers=2, talking_elapsed=(30.0, 40.0), in_flight=3, connecting=1)
    assert policy.calls_to_place(s) == 8 - 3 - 1 - 2


def test_vicidial_places_nothing_without_ready_volunteers() -> None:
    policy = VicidialAdaptivePacing(level=3.0)
    assert policy.calls_to_place(state(wrap_up_elapsed=(3.0, 4.0))) == 0


def test_vicidial_places_nothing_when_the_list_is_exhausted() -> None:
    policy = VicidialAdaptivePacing()
    assert policy.calls_to_place(state(ready_volunteers=5, voters_available=0)) == 0


def test_vicidial_raises_the_level_while_volunteers_sit_ready() -> None:
    policy = VicidialAdaptivePacing()
    for t in range(17):
        policy.calls_to_place(state(ready_volunteers=4, now=float(t)))
    assert policy.level > 1.0


def test_vicidial_lowers_the_level_while_answers_wait() -> None:
    policy = VicidialAdaptivePacing(level=2.5)
    for t in range(17):
        policy.calls_to_place(state(connecting=3, talking_elapsed=(5.0,) * 4, now=float(t)))
    assert policy.level < 2.5


def test_vicidial_level_never_exceeds_its_maximum() -> None:
    policy = VicidialAdaptivePacing(maximum_level=2.0)
    for t in range(0, 300):
        policy.calls_to_place(state(ready_volunteers=10, now=float(t)))
    assert policy.level == 2.0


def test_vicidial_drops_to_one_line_over_the_drop_limit() -> None:
    policy = VicidialAdaptivePacing(level=2.5)
    for t in range(17):
        s = state(ready_volunteers=4, live_answers=100, abandons=4, now=float(t))
        policy.calls_to_place(s)
    assert policy.level == 1.0


def test_vicidial_rejects_intensity_out_of_range() -> None:
    with pytest.raises(InvalidInput, match="intensity"):
        VicidialAdaptivePacing(intensity=50)


# Predictive


def test_predictive_places_nothing_without_volunteers() -> None:
    assert PredictivePacing().calls_to_place(state()) == 0


def test_predictive_places_nothing_when_the_list_is_exhausted() -> None:
    assert PredictivePacing().calls_to_place(state(ready_volunteers=3, voters_available=0)) == 0


def test_predictive_over_dials_for_ready_volunteers_at_a_low_contact_rate() -> None:
    """At 10 % contacts one line per volunteer would leave them waiting minutes."""
    assert PredictivePacing().calls_to_place(state(ready_volunteers=5)) > 5


def test_predictive_is_capped_by_lines_per_volunteer() -> None:
    policy = PredictivePacing(max_lines_per_volunteer=2.0, theta_ref=0.3)
    assert policy.calls_to_place(state(ready_volunteers=5, in_flight=4)) == 6


def test_predictive_places_few_calls_when_everyone_just_started_wrap_up() -> None:
    """Volunteers 1 s into wrap-up free up in ~14 s, so some calls go out, fewer than ready."""
    wrapping = PredictivePacing().calls_to_place(state(wrap_up_elapsed=(1.0,) * 5))
    ready = PredictivePacing().calls_to_place(state(ready_volunteers=5))
    assert 0 < wrapping < ready


def test_predictive_places_nothing_when_everyone_just_started_talking() -> None:
    """A 90 s talk has barely begun: a new call would be answered before anyone is free."""
    assert PredictivePacing().calls_to_place(state(talking_elapsed=(1.0,) * 5)) == 0


def test_predictive_waiting_answers_hold_back_new_calls() -> None:
    free = PredictivePacing().calls_to_place(state(ready_volunteers=3))
    held = PredictivePacing().calls_to_place(state(ready_volunteers=3, connecting=2))
    assert held < free


def test_predictive_theta_shrinks_as_the_budget_is_spent() -> None:
    policy = PredictivePacing()
    on_target = policy.theta(state(live_answers=1000, abandons=27))
    over = policy.theta(state(live_answers=1000, abandons=35))
    assert over < on_target


def test_predictive_spent_budget_barely_over_dials() -> None:
    policy = PredictivePacing()
    spent = state(ready_volunteers=5, live_answers=1000, abandons=80)
    assert policy.theta(spent) == policy.theta_min
    assert policy.calls_to_place(spent) < policy.calls_to_place(state(ready_volunteers=5))


def test_predictive_unknown_in_flight_calls_count_as_just_placed() -> None:
    """The live dialer does not yet report elapsed times: in_flight alone must still count."""
    bare = PredictivePacing().calls_to_place(state(ready_volunteers=2, in_flight=20))
    known = PredictivePacing().calls_to_place(
        state(ready_volunteers=2, in_flight=20, ringing_elapsed=(0.0,) * 20)
    )
    assert bare == known


def test_predictive_rejects_a_target_outside_zero_to_one() -> None:
    with pytest.raises(InvalidInput, match="target abandon"):
        PredictivePacing(target_abandon=3.0)


# The learned model


def test_pacing_model_round_trips_through_json() -> None:
    model = PacingModel(person_rate=0.2, talk=LogNormal(120.0, 0.7))
    text = model.to_json()
    json.loads(text)
    assert PacingModel.from_json(text) == model


def test_lognormal_fit_recovers_mean() -> None:
    fitted = LogNormal.fit([80.0, 90.0, 100.0])
    assert fitted.mean == pytest.approx(90.0)
    assert 0.05 <= fitted.cv < 0.2


def test_lognormal_cdf_is_clipped() -> None:
    d = LogNormal(12.0, 0.35, 2.0, 26.0)
    assert d.cdf(1.0) == 0.0
    assert d.cdf(26.0) == 1.0
    assert 0.4 < d.cdf(12.0) < 0.6


def test_predictive_places_nothing_when_everyone_is_in_wrap_up_and_the_list_is_exhausted() -> None:
    s = state(wrap_up_elapsed=(14.0,) * 5, voters_available=0)
    assert PredictivePacing().calls_to_place(s) == 0


def test_predictive_spent_budget_still_dials_for_ready_volunteers() -> None:
    """θ at its floor holds calls back but never stops a ready team from being fed."""
    spent = state(ready_volunteers=5, live_answers=1000, abandons=80)
    assert PredictivePacing().calls_to_place(spent) >= 5


def test_predictive_dials_with_large_thirty_day_counts_on_target() -> None:
    """The engine passes rolling 30-day counts: on target, θ stays near its reference."""
    policy = PredictivePacing()
    s = state(ready_volunteers=5, live_answers=5000, abandons=135)
    assert policy.theta(s) == pytest.approx(policy.theta_ref, rel=0.2)
    assert policy.calls_to_place(s) > 5


def test_predictive_steer_gain_shrinks_for_large_campaigns() -> None:
    policy = PredictivePacing()
    small = policy.steer_gain_for(state(ready_volunteers=5))
    large = policy.steer_gain_for(state(ready_volunteers=100))
    assert small == policy.steer_gain
    assert large == pytest.approx(policy.steer_gain * (5 / 100) ** 0.5)


def test_predictive_gain_uses_one_volunteer_when_nobody_is_signed_in() -> None:
    policy = PredictivePacing()
    assert policy.steer_gain_for(state()) == policy.steer_gain


def test_predictive_waiting_answers_count_only_as_far_as_volunteers_can_take_them() -> None:
    """Nobody frees within 2 s of a just-started talk, so those waiting will be abandoned."""
    policy = PredictivePacing()
    s = state(talking_elapsed=(1.0,) * 10, connecting=3)
    assert policy._waiting_served(s) < 1.0
    ready = state(ready_volunteers=4, connecting=3)
    assert policy._waiting_served(ready) == 3.0


def test_predictive_abandoned_anyway_waiting_answers_hold_back_fewer_calls() -> None:
    """Mostly hopeless waiting answers hold back some calls, not the whole dial."""
    policy = PredictivePacing()
    base = state(wrap_up_elapsed=(12.0,) * 4, talking_elapsed=(1.0,) * 20)
    waiting = state(wrap_up_elapsed=(12.0,) * 4, talking_elapsed=(1.0,) * 20, connecting=2)
    assert 0 < policy.calls_to_place(waiting) < policy.calls_to_place(base)
