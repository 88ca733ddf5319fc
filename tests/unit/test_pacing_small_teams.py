"""Small teams (issue 15 item 4): with 1 to 4 volunteers, is predictive still worth it?

Measured (docs/performance.md, "Small teams"), with a new campaign's settings (the half-hour
guard on): predictive, learning from scratch as the engine does, reaches more voters per
volunteer-hour than power dialing with one line and than preview at 1 to 4 volunteers at 10 %
contacts and at 1 and 4 at 20 %; at 2 volunteers and 20 % contacts power-1 reaches more (the
guard's margin of 8 abandons leaves a team of 2 almost no over-dialing), at 3 they tie.
Without the guard predictive beats power-1 at every small size. So docs/pacing.md recommends,
for 2 or 3 volunteers at a high contact rate, power with one line or the guard turned off.
These pin the measurement (a short shift, one seed) so a change that moves it fails here
first."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.pacing.learning_sim import PREDICTIVE, LearningCampaign
from bench.pacing.sim import Params, simulate, simulate_manual
from engine.dialer.modes import pacing_for
from engine.models import Campaign, DialMode

POWER_1 = Campaign(id=1, name="power", dial_mode=DialMode.POWER, lines_per_volunteer=1)
HOURS = 3.0


@pytest.mark.parametrize("volunteers", [2, 4])
def test_predictive_learning_from_scratch_beats_power_and_preview(volunteers: int) -> None:
    """With a new campaign's settings, the half-hour guard on: at 2 volunteers it still
    reaches about 14 % more voters than power (seed 11: 13.3 against 11.7 an hour)."""
    p = Params(contact_rate=0.10)
    learning = LearningCampaign(PREDICTIVE, p, volunteers, HOURS, seed=11).run()
    power = simulate(pacing_for(POWER_1, p.model()), p, volunteers, HOURS, seed=11)
    manual = simulate_manual(p, volunteers, HOURS, seed=11)
    assert PREDICTIVE.half_hour_guard
    assert learning.contacts_per_hour > 1.05 * power.contacts_per_hour
    assert power.contacts_per_hour > manual.contacts_per_hour
    assert learning.worst_window() <= 0.05


@pytest.mark.parametrize("volunteers", [2, 4])
def test_without_the_half_hour_guard_predictive_beats_power_by_more(volunteers: int) -> None:
    """The guard turned off: the 30-day rule alone, and about a quarter more contacts at 2
    and 4 volunteers than with the guard."""
    p = Params(contact_rate=0.10)
    unguarded = replace(PREDICTIVE, half_hour_guard=False)
    learning = LearningCampaign(unguarded, p, volunteers, HOURS, seed=11).run()
    guarded = LearningCampaign(PREDICTIVE, p, volunteers, HOURS, seed=11).run()
    power = simulate(pacing_for(POWER_1, p.model()), p, volunteers, HOURS, seed=11)
    assert learning.contacts_per_hour > 1.2 * power.contacts_per_hour
    assert learning.contacts_per_hour > 1.1 * guarded.contacts_per_hour
    assert learning.abandons <= 0.03 * learning.live_answers + 3  # the 30-day guard's budget


def test_with_the_guard_two_volunteers_at_20_percent_reach_more_with_power() -> None:
    """Seed 11: 18.8 contacts an hour with power-1, 16.3 predictive with the guard, 22.3
    without it; the recommendation in docs/pacing.md "Small teams" follows this."""
    p = Params(contact_rate=0.20)
    guarded = LearningCampaign(PREDICTIVE, p, 2, HOURS, seed=11).run()
    unguarded = replace(PREDICTIVE, half_hour_guard=False)
    learning = LearningCampaign(unguarded, p, 2, HOURS, seed=11).run()
    power = simulate(pacing_for(POWER_1, p.model()), p, 2, HOURS, seed=11)
    assert power.contacts_per_hour > 1.05 * guarded.contacts_per_hour
    assert learning.contacts_per_hour > 1.1 * power.contacts_per_hour
