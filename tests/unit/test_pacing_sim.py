"""The pacing simulator (bench/pacing) on short runs: fast, but enough calls to compare."""

from __future__ import annotations

import pytest

from bench.pacing.frontier import InformedCampaign, InformedPacing, at_abandon
from bench.pacing.sim import Params, RunResult, simulate, simulate_manual, simulate_oracle
from engine.dialer.pacing.base import PowerPacing
from engine.dialer.pacing.policies import PredictivePacing, PreviewPacing, VicidialAdaptivePacing

P = Params(contact_rate=0.10)
HOURS = 0.5


def test_same_seed_same_result() -> None:
    a = simulate(PredictivePacing(model=P.model()), P, 5, HOURS, seed=7)
    b = simulate(PredictivePacing(model=P.model()), P, 5, HOURS, seed=7)
    assert (a.contacts, a.calls, a.abandons, a.waits) == (b.contacts, b.calls, b.abandons, b.waits)


def test_different_seeds_differ() -> None:
    a = simulate(PowerPacing(1), P, 5, HOURS, seed=1)
    b = simulate(PowerPacing(1), P, 5, HOURS, seed=2)
    assert a.calls != b.calls


def test_power_one_line_per_ready_volunteer_never_abandons() -> None:
    """Each ready volunteer has at most one call going, so every answer finds someone."""
    out = simulate(PowerPacing(1), Params(contact_rate=0.2), 10, HOURS, seed=3)
    assert out.live_answers > 0
    assert out.abandons == 0


def test_preview_places_no_calls() -> None:
    out = simulate(PreviewPacing(), P, 3, 0.1, seed=1)
    assert out.calls == 0


def test_oracle_beats_every_policy() -> None:
    oracle = simulate_oracle(P, 5, HOURS, seed=4).contacts_per_hour
    for policy in (PowerPacing(1), PowerPacing(3), VicidialAdaptivePacing(), PredictivePacing()):
        assert simulate(policy, P, 5, HOURS, seed=4).contacts_per_hour < oracle
    assert simulate_manual(P, 5, HOURS, seed=4).contacts_per_hour < oracle


def test_predictive_beats_manual_and_power_one() -> None:
    manual = simulate_manual(P, 5, HOURS, seed=5).contacts_per_hour
    power = simulate(PowerPacing(1), P, 5, HOURS, seed=5).contacts_per_hour
    predictive = simulate(PredictivePacing(model=P.model()), P, 5, HOURS, seed=5)
    assert predictive.contacts_per_hour > max(manual, power)


def test_contacts_and_talk_time_are_consistent() -> None:
    out = simulate(PowerPacing(2), P, 4, HOURS, seed=6)
    assert out.contacts == len(out.waits)
    assert 0.0 < out.occupancy < 1.0
    assert out.calls >= out.live_answers >= out.contacts


class _CheckedCampaign(InformedCampaign):
    """Fails the run if a volunteer frees, or a person's verdict comes, at any other moment
    than the one the informed variants were told."""

    checked = 0

    def volunteer_free(self, t: float, volunteer: int) -> None:
        if volunteer in self.wrapping:
            assert t == self.free_at[volunteer]
            self.checked += 1
        super().volunteer_free(t, volunteer)

    def person(self, t: float, call: int) -> None:
        assert t == self.verdict_at[call]
        self.checked += 1
        super().person(t, call)


def test_the_informed_variants_are_told_the_true_moments() -> None:
    for knows in ("knows-free", "knows-calls"):
        policy = InformedPacing(P.model(), fixed=0.05, knows=knows)
        world = _CheckedCampaign(policy, P, 5, HOURS, 8)
        policy.world = world
        out = world.run()
        assert out.contacts > 20 and world.checked > 2 * out.contacts - 10
        assert not (world.free_at.keys() & {v for v, _ in world.ready})


def test_contacts_at_an_abandon_rate_are_interpolated_between_points() -> None:
    points = [(3.0, 30.0), (1.0, 28.0), (5.0, 31.0)]
    assert at_abandon(points, 2.0) == "29.0"
    assert at_abandon(points, 4.0) == "30.5"
    assert at_abandon(points, 0.5) == "< 28.0"
    assert at_abandon(points, 6.0) == "> 31.0"


def test_a_drifting_world_steps_and_slides_between_its_points() -> None:
    step = Params(schedule=((0.0, 0.10), (2.0, 0.10), (2.0, 0.20), (4.0, 0.05)))
    assert step.rate_at(3600.0) == 0.10
    assert step.rate_at(2 * 3600.0) == 0.20  # the step
    assert step.rate_at(3 * 3600.0) == pytest.approx(0.125)  # halfway down to 5 %
    assert step.rate_at(9 * 3600.0) == 0.05
    assert Params(contact_rate=0.3).rate_at(100.0) == 0.3


def test_the_worst_half_hour_is_found_among_sliding_windows() -> None:
    out = RunResult(volunteers=1, hours=2.0)
    out.answer_times = [60.0 * m for m in range(120)]  # one live answer a minute
    out.abandon_times = [3000.0, 3060.0, 3120.0]  # three in minutes 50-52
    assert out.worst_window() == pytest.approx(3 / 30)
