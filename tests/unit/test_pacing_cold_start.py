"""A predictive cold start (issue 11, item 16): 40 volunteers ready at once on a campaign
that has learned nothing placed 16, then 256 calls, and abandoned 37 people in 40 s. The
abandon guard now holds within a round and one decision is bounded, so a campaign that has
seen no calls starts near power dialing and widens as its calls show how often people
answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bench.pacing.cold_start import PREDICTIVE, cold_start
from engine.dialer.modes import pacing_for
from engine.dialer.pacing.base import (
    ABANDON_LIMIT,
    PRIOR_ANSWERS,
    AbandonGuard,
    PacingState,
    contact_rate_ceiling,
)
from engine.dialer.pacing.learning import Learned
from engine.dialer.pacing.model import PacingModel
from engine.models import Attempt, CallOutcome, CallState
from tests.unit.pacing_streams import T0


@dataclass(frozen=True)
class Eager:
    """A policy that always wants a hundred more calls."""

    def calls_to_place(self, state: PacingState) -> int:
        return 100


def test_contact_rate_ceiling_is_one_until_calls_are_seen_then_narrows() -> None:
    assert contact_rate_ceiling(0, 0) == 1.0
    few, many = contact_rate_ceiling(4, 40), contact_rate_ceiling(100, 1000)
    assert 0.19 < few < 0.22
    assert 0.11 < many < 0.12
    assert contact_rate_ceiling(1000, 1000) == 1.0


def test_learned_ceiling_counts_young_people_and_leaves_fast_failures_out() -> None:
    learned = Learned()
    for n, outcome in enumerate([CallOutcome.BUSY] * 30 + [CallOutcome.MACHINE] * 9):
        learned.see_placed(
            Attempt(
                id=n + 1,
                campaign_id=1,
                voter_id=1,
                phone="+1",
                state=CallState.ENDED,
                originated_at=T0,
                ended_at=T0 + timedelta(seconds=5),
                outcome=outcome,
                amd_verdict="MACHINE" if outcome == CallOutcome.MACHINE else "",
            )
        )
    learned.advance(T0 + timedelta(minutes=1), 28.0)
    talking = Attempt(
        id=40,
        campaign_id=1,
        voter_id=1,
        phone="+1",
        state=CallState.CONNECTED,
        originated_at=T0 + timedelta(seconds=50),
        amd_verdict="HUMAN",
    )
    learned.see_placed(talking)  # too recent to count, a person already
    # One person still talking, among ten calls that rang through: the busy ones say nothing.
    assert learned.contact_rate_high() == contact_rate_ceiling(1, 10)


def test_guard_counts_calls_in_flight_as_potential_abandons() -> None:
    """A new campaign's credit is 3 abandons: with every call possibly a person, at most 3
    lines beyond one per volunteer signed in, counting calls placed by earlier decisions."""
    guard = AbandonGuard(Eager())
    fresh = PacingState(ready_volunteers=40, in_flight=0, connecting=0, voters_available=10**6)
    assert guard.calls_to_place(fresh) == 41  # one decision: a person per ready one, and one
    after = PacingState(ready_volunteers=40, in_flight=41, connecting=0, voters_available=10**6)
    assert guard.calls_to_place(after) == 2
    full = PacingState(ready_volunteers=40, in_flight=43, connecting=0, voters_available=10**6)
    assert guard.calls_to_place(full) == 0


def test_guard_widens_as_calls_show_how_often_people_answer() -> None:
    guard = AbandonGuard(Eager())
    known = PacingState(
        ready_volunteers=5,
        in_flight=0,
        connecting=0,
        voters_available=10**6,
        talking_elapsed=(30.0,) * 5,
        contact_rate_high=0.1,
    )
    # 10 volunteers + 3 / 0.1 lines of credit; one decision at most (5 + 1) / 0.1 calls.
    assert guard.calls_to_place(known) == 40
    assert guard.calls_to_place(PacingState(**{**known.__dict__, "in_flight": 20})) == 20


def test_cold_start_first_decision_is_near_power_dialing() -> None:
    policy = pacing_for(PREDICTIVE, PacingModel())
    state = PacingState(ready_volunteers=40, in_flight=0, connecting=0, voters_available=10**6)
    assert policy.calls_to_place(state) <= 40 + 3


def test_cold_start_on_a_list_of_supporters_stays_within_the_abandon_rule() -> None:
    """40 volunteers at once, 30 % of calls answered by a person while the empty model says
    10 %: the first decision is bounded and the abandons stay within the rule (the guard's
    credit: 3 % of live answers plus 3)."""
    decisions, out = cold_start(0.30, volunteers=40, minutes=5.0, seed=0)
    assert decisions[0] <= 43
    assert max(decisions) <= 43
    assert out.live_answers > 80
    assert out.abandons <= ABANDON_LIMIT * (out.live_answers + PRIOR_ANSWERS)
    assert out.abandons <= ABANDON_LIMIT * out.live_answers


def test_cold_start_on_an_ordinary_list_still_keeps_volunteers_busy() -> None:
    """The ramp costs little at the reference 10 %: most volunteers talk within minutes."""
    _, out = cold_start(0.10, volunteers=40, minutes=5.0, seed=0)
    assert out.occupancy > 0.35
    assert out.abandons <= ABANDON_LIMIT * out.live_answers
