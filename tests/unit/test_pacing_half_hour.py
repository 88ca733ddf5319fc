"""The half-hour guard (engine/dialer/pacing/half_hour.py) on synthetic windows: at the limit,
under, over, with calls in flight; and the predictive policy it steers."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from engine.dialer.modes import pacing_for
from engine.dialer.pacing.base import AbandonGuard, PacingState
from engine.dialer.pacing.half_hour import (
    HALF_HOUR_GAIN,
    HALF_HOUR_LIMIT,
    half_hour_budget,
    half_hour_factor,
)
from engine.dialer.pacing.model import PacingModel
from engine.dialer.pacing.policies import PredictivePacing
from engine.models import Campaign, DialMode


def state(**kw: Any) -> PacingState:
    base: dict[str, Any] = dict(
        ready_volunteers=10,
        in_flight=0,
        connecting=0,
        voters_available=1000,
        talking_elapsed=(),
        live_answers=1000,
        abandons=27,
    )
    base.update(kw)
    return PacingState(**base)


def test_a_window_at_the_limit_has_nothing_left() -> None:
    assert half_hour_budget(100, 5, 0.0, margin=0.0) == pytest.approx(0.0)


def test_a_window_under_the_limit_keeps_what_it_has_not_spent_less_the_margin() -> None:
    assert half_hour_budget(100, 2, 0.0, margin=0.0) == pytest.approx(3.0)
    assert half_hour_budget(100, 2, 0.0, margin=1.0) == pytest.approx(2.0)


def test_a_window_over_the_limit_is_short() -> None:
    assert half_hour_budget(100, 8, 0.0, margin=0.0) == pytest.approx(-3.0)


def test_live_answers_expected_in_flight_earn_budget() -> None:
    """40 calls in flight at 10 % contacts bring 4 live answers: 5 % of them is 0.2."""
    assert half_hour_budget(100, 5, 40 * 0.1, margin=0.0) == pytest.approx(0.2)


def test_the_factor_leaves_theta_alone_until_the_window_is_short() -> None:
    assert half_hour_factor(2.0) == 1.0
    assert half_hour_factor(0.0) == 1.0
    assert half_hour_factor(-1.0) == pytest.approx(math.exp(-HALF_HOUR_GAIN))
    assert half_hour_factor(-2.0) < half_hour_factor(-1.0)


def guarded(**kw: Any) -> PredictivePacing:
    return PredictivePacing(window_limit=HALF_HOUR_LIMIT, **kw)


def test_theta_is_the_shifts_while_the_half_hour_has_room() -> None:
    plain, guard = PredictivePacing(), guarded(window_margin=2.0)
    roomy = state(window_live_answers=200, window_abandons=3)  # 10 - 3 - 2 = 5 left
    assert guard.theta(roomy) == plain.theta(roomy)
    assert guard.calls_to_place(roomy) == plain.calls_to_place(roomy) > 10


def test_a_half_hour_over_its_limit_cuts_theta_and_the_calls() -> None:
    plain, guard = PredictivePacing(), guarded(window_margin=2.0)
    over = state(window_live_answers=100, window_abandons=6)  # 5 - 6 - 2 = -3
    expected = plain.theta(over) * math.exp(-3.0 * HALF_HOUR_GAIN)
    assert guard.theta(over) == pytest.approx(max(guard.theta_min, expected))
    assert guard.calls_to_place(over) < plain.calls_to_place(over)


def test_a_half_hour_at_its_margin_is_not_cut() -> None:
    guard = guarded(window_margin=2.0)
    at_margin = state(window_live_answers=100, window_abandons=3)  # 5 - 3 - 2 = 0
    assert guard.theta(at_margin) == PredictivePacing().theta(at_margin)


def test_calls_in_flight_ease_the_cut() -> None:
    """The same window is less short with 100 calls in flight (10 more people expected)."""
    guard = guarded(window_margin=2.0)
    window = {"window_live_answers": 100, "window_abandons": 4}  # 5 - 4 - 2 = -1
    idle, busy = state(**window), state(in_flight=100, **window)  # -1 + 0.5 = -0.5
    assert guard.half_hour_budget(idle) == pytest.approx(-1.0)
    assert guard.half_hour_budget(busy) == pytest.approx(-0.5)
    assert guard.theta(busy) > guard.theta(idle)


def test_without_the_guard_the_half_hour_is_ignored() -> None:
    plain = PredictivePacing()
    over = state(window_live_answers=100, window_abandons=20)
    assert plain.theta(over) == plain.theta(replace(over, window_abandons=0))


@pytest.mark.parametrize(("setting", "limit"), [(True, HALF_HOUR_LIMIT), (False, 0.0)])
def test_the_campaign_setting_turns_the_guard_on(setting: bool, limit: float) -> None:
    campaign = Campaign(id=1, name="Fall", dial_mode=DialMode.PREDICTIVE, half_hour_guard=setting)
    policy = pacing_for(campaign, PacingModel())
    assert isinstance(policy, AbandonGuard) and isinstance(policy.inner, PredictivePacing)
    assert policy.inner.window_limit == limit
