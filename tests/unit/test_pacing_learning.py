"""What pacing learns from placed and finished calls, how it is stored, and the campaign
pacing that reads it back after a restart (the window of placed calls itself:
tests/unit/test_pacing_placed.py)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import timedelta

import pytest

from engine.dialer.campaign_pacing import CampaignPacing
from engine.dialer.pacing.base import AbandonGuard, PacingState
from engine.dialer.pacing.learning import MIN_SAMPLES, PRIOR_ATTEMPTS, Learned, moved
from engine.dialer.pacing.model import LogNormal, PacingModel
from engine.dialer.pacing.policies import PredictivePacing, VicidialAdaptivePacing
from engine.models import Attempt, CallOutcome, CallState, Campaign, DialMode
from engine.store.base import Store
from tests.unit.store_helpers import NY, T0, campaign_with_voters, phones, session_for

pytestmark = pytest.mark.every_store  # the tests that use the store run on SQLite and PostgreSQL


def attempt(
    outcome: CallOutcome,
    answer_s: float | None = 10.0,
    amd_s: float = 2.0,
    talk_s: float = 60.0,
    verdict: str = "HUMAN",
    id: int = 1,
) -> Attempt:
    placed = T0
    answered = None if answer_s is None else placed + timedelta(seconds=answer_s)
    amd_at = None if answered is None else answered + timedelta(seconds=amd_s)
    bridged = amd_at if outcome == CallOutcome.CONTACT else None
    ended = (bridged or amd_at or placed + timedelta(seconds=28)) + timedelta(
        seconds=talk_s if bridged else 1.0
    )
    return Attempt(
        id=id,
        campaign_id=1,
        voter_id=1,
        phone="+12025550100",
        state=CallState.ENDED,
        originated_at=placed,
        answered_at=answered,
        amd_verdict=verdict if answered else "",
        amd_at=amd_at,
        bridged_at=bridged,
        ended_at=ended,
        outcome=outcome,
    )


def test_nothing_learned_gives_the_reference_model() -> None:
    assert Learned().model(28.0) == PacingModel()


def placed(learned: Learned, *calls: Attempt) -> None:
    """The calls were placed (at T0) and read; an hour later they are all counted."""
    for call in calls:
        learned.see_placed(call)
    learned.advance(T0 + timedelta(hours=1), 28.0)


def test_outcome_mix_moves_from_the_prior_towards_what_was_seen() -> None:
    learned = Learned()
    for n in range(1, 201):
        if n % 5 == 0:
            placed(learned, attempt(CallOutcome.CONTACT, id=n))
        elif n % 5 == 1:
            placed(learned, attempt(CallOutcome.MACHINE, verdict="MACHINE", id=n))
        else:
            placed(learned, attempt(CallOutcome.NO_ANSWER, answer_s=None, id=n))
    model = learned.model(28.0)
    expected = (40 + PRIOR_ATTEMPTS * 0.10) / (200 + PRIOR_ATTEMPTS)
    assert model.person_rate == pytest.approx(expected, abs=0.003)
    assert model.machine_rate == pytest.approx((40 + PRIOR_ATTEMPTS * 0.27) / 250, abs=0.003)
    assert model.no_answer_share > 0.9  # every non-answer seen rang out


def test_durations_are_fitted_once_there_are_enough_samples() -> None:
    learned = Learned()
    rng = random.Random(1)
    for _ in range(MIN_SAMPLES - 1):
        learned.observe_ended(attempt(CallOutcome.CONTACT, talk_s=30.0))
    assert learned.model(28.0).talk == PacingModel().talk
    for n in range(200):
        talk = rng.uniform(20.0, 40.0)
        call = attempt(CallOutcome.CONTACT, answer_s=6.0, amd_s=1.5, talk_s=talk, id=n + 1)
        placed(learned, call)
        learned.observe_ended(call)
        learned.observe_wrap_up(rng.uniform(4.0, 6.0))
    model = learned.model(20.0)
    assert model.talk.mean == pytest.approx(30.0, abs=1.0)
    assert model.wrap_up.mean == pytest.approx(5.0, abs=0.5)
    assert model.answer_time.mean == pytest.approx(6.0, abs=0.5)
    assert model.answer_time.high == 20.0 and model.ring_out_s == 20.0
    assert model.amd_person_s[0] == pytest.approx(1.5, abs=0.3)


def test_preview_calls_teach_no_talk_time() -> None:
    learned = Learned()
    learned.observe_ended(attempt(CallOutcome.CONTACT, verdict=""))
    assert not learned.talk_s


def test_a_slightly_different_sample_gives_an_equal_model() -> None:
    """Rounded models let the policy reuse its cached tables."""
    a, b = Learned(), Learned()
    for n in range(300):
        a.observe_ended(attempt(CallOutcome.CONTACT, talk_s=60.0 + n % 7))
        b.observe_ended(attempt(CallOutcome.CONTACT, talk_s=60.0 + n % 7))
    b.observe_ended(attempt(CallOutcome.CONTACT, talk_s=61.0))
    assert a.model(28.0) == b.model(28.0)


def test_learned_data_round_trips_through_json() -> None:
    learned = Learned()
    for n, outcome in enumerate((CallOutcome.CONTACT, CallOutcome.BUSY, CallOutcome.ABANDONED)):
        placed(learned, attempt(outcome, id=n + 1))
        learned.observe_ended(attempt(outcome, id=n + 1))
    learned.observe_wrap_up(12.0)
    learned.ended_after = T0
    learned.last_attempt_id = 5
    learned.last_result_id = 7
    again = Learned.from_json(learned.to_json())
    assert again.to_json() == learned.to_json()
    assert again.summary() == learned.summary()
    assert again.model(28.0) == learned.model(28.0)


@pytest.mark.parametrize("text", ["{}", "[]", '{"calls_seen": 1, "outcomes": 5}', "nope"])
def test_damaged_learned_data_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Learned.from_json(text)


# --- a campaign's pacing, with the store ---------------------------------------------------


async def finished_calls(
    store: Store,
    campaign_id: int,
    session_id: int,
    outcomes: list[CallOutcome],
    first_end_s: int = 0,
) -> None:
    pairs = await store.claim_voters(campaign_id, len(outcomes), T0, [NY], 3)
    for n, ((_, claimed), outcome) in enumerate(zip(pairs, outcomes, strict=True)):
        ended = T0 + timedelta(seconds=first_end_s + n)
        await store.update_attempt(
            claimed.id,
            state=CallState.ENDED,
            outcome=outcome,
            originated_at=T0 - timedelta(seconds=20),
            answered_at=T0 - timedelta(seconds=10),
            amd_verdict="HUMAN",
            amd_at=T0 - timedelta(seconds=8),
            bridged_at=T0 - timedelta(seconds=8),
            ended_at=ended,
        )
        if outcome == CallOutcome.CONTACT:
            await store.save_result(
                claimed.id, session_id, "talked", {}, "", ended + timedelta(seconds=9)
            )


async def test_campaign_pacing_learns_saves_and_resumes_after_a_restart(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, phones(6))
    campaign = await store.update_campaign(campaign_id, dial_mode=DialMode.PREDICTIVE)
    pacing = await CampaignPacing.load(store, campaign)
    assert pacing.learned.calls_seen == 0
    session_id = await session_for(store, campaign_id)
    outcomes = [CallOutcome.CONTACT, CallOutcome.ABANDONED, CallOutcome.CONTACT]
    await finished_calls(store, campaign_id, session_id, outcomes)
    await pacing.refresh(store, T0 + timedelta(minutes=1))
    assert pacing.learned.calls_seen == 3
    assert list(pacing.learned.wrap_up_s) == [9.0, 9.0]
    assert (pacing.abandons, pacing.live_answers) == (1, 3)
    await pacing.save(store, T0 + timedelta(minutes=1))

    again = await CampaignPacing.load(store, campaign)  # the engine restarted
    assert again.learned.to_json() == pacing.learned.to_json()
    await again.refresh(store, T0 + timedelta(minutes=2))
    assert again.learned.calls_seen == 3  # nothing read twice
    await finished_calls(store, campaign_id, session_id, [CallOutcome.BUSY], first_end_s=60)
    await again.refresh(store, T0 + timedelta(minutes=3), force=True)
    assert again.learned.calls_seen == 4


async def test_damaged_learned_data_starts_learning_over(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, phones(1))
    await store.save_pacing(campaign_id, "not json", T0)
    pacing = await CampaignPacing.load(store, await store.get_campaign(campaign_id))
    assert pacing.learned.calls_seen == 0


async def test_the_policy_keeps_its_memory_until_the_settings_change(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, phones(1))
    campaign = await store.update_campaign(campaign_id, dial_mode=DialMode.ADAPTIVE)
    pacing = await CampaignPacing.load(store, campaign)
    policy = pacing.policy
    assert isinstance(policy, AbandonGuard) and isinstance(policy.inner, VicidialAdaptivePacing)
    pacing.update_campaign(await store.update_campaign(campaign_id, script="Hello"))
    assert pacing.policy is policy
    pacing.update_campaign(await store.update_campaign(campaign_id, dial_mode=DialMode.PREDICTIVE))
    assert isinstance(pacing.policy, AbandonGuard)
    assert isinstance(pacing.policy.inner, PredictivePacing)


async def test_decisions_use_the_30_day_abandon_counts(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, phones(1))
    campaign = Campaign(id=campaign_id, name="Fall", dial_mode=DialMode.PREDICTIVE)
    pacing = await CampaignPacing.load(store, campaign)
    pacing.live_answers, pacing.abandons = 100, 10  # far over 3 %
    state = PacingState(ready_volunteers=2, in_flight=0, connecting=0, voters_available=100)
    assert pacing.decide(state) == 2  # one line per ready volunteer, no more
    assert pacing.summary()["last_decision"]["wanted"] == 2
    assert pacing.summary()["last_decision"]["placed"] == 0  # until the dialer says
    pacing.placed(1)  # fewer voters could be called than pacing wanted
    assert pacing.summary()["last_decision"]["placed"] == 1
    pacing.live_answers, pacing.abandons = 100, 0
    assert pacing.decide(state) > 2


async def test_the_half_hour_guard_reads_the_last_half_hours_counts(store: Store) -> None:
    """With the campaign's half-hour guard on, pacing reads the last 30 minutes' abandons
    and live answers (the 30-day counts as before) and hands them to the policy."""
    campaign_id = await campaign_with_voters(store, phones(3))
    campaign = await store.update_campaign(
        campaign_id, dial_mode=DialMode.PREDICTIVE, half_hour_guard=True
    )
    pacing = await CampaignPacing.load(store, campaign)
    assert isinstance(pacing.policy, AbandonGuard)
    assert isinstance(pacing.policy.inner, PredictivePacing)
    assert pacing.policy.inner.window_limit == 0.05
    session_id = await session_for(store, campaign_id)
    outcomes = [CallOutcome.CONTACT, CallOutcome.ABANDONED, CallOutcome.CONTACT]
    await finished_calls(store, campaign_id, session_id, outcomes)
    await pacing.learn(store, T0 + timedelta(minutes=1))
    assert (pacing.window_abandons, pacing.window_live_answers) == (1, 3)
    await pacing.learn(store, T0 + timedelta(minutes=31))  # the calls left the half hour
    assert (pacing.window_abandons, pacing.window_live_answers) == (0, 0)
    assert (pacing.abandons, pacing.live_answers) == (1, 3)


async def test_decisions_hand_the_half_hour_counts_to_the_policy(store: Store) -> None:
    campaign_id = await campaign_with_voters(store, phones(1))
    campaign = Campaign(
        id=campaign_id, name="Fall", dial_mode=DialMode.PREDICTIVE, half_hour_guard=True
    )
    pacing = await CampaignPacing.load(store, campaign)
    seen: list[PacingState] = []

    class Recording:
        def calls_to_place(self, state: PacingState) -> int:
            seen.append(state)
            return 0

    pacing.policy = Recording()
    pacing.window_live_answers, pacing.window_abandons = 100, 12
    pacing.decide(PacingState(ready_volunteers=1, in_flight=0, connecting=0, voters_available=9))
    assert (seen[0].window_live_answers, seen[0].window_abandons) == (100, 12)


def test_what_the_learner_before_issue_15_saved_still_loads() -> None:
    """Its window of ended calls' kinds starts the placed window (and slides out as calls are
    placed); its one answer time serves people and machines alike."""
    old = {
        "outcomes": ["person"] * 30 + ["machine"] * 70 + ["no answer"] * 100,
        "answer_s": [8.0] * 30,
        "amd_person_s": [],
        "amd_machine_s": [],
        "talk_s": [60.0] * 30,
        "wrap_up_s": [],
        "fail_s": [],
        "calls_seen": 200,
        "ended_after": T0.isoformat(),
        "last_attempt_id": 200,
        "last_result_id": 12,
    }
    learned = Learned.from_json(json.dumps(old))
    model = learned.model(28.0)
    assert model.person_rate == pytest.approx((30 + 5) / 250, abs=0.003)
    assert model.answer_time.mean == model.machine_answer.mean == 8.0
    assert model.talk.mean == 60.0
    assert (learned.last_attempt_id, learned.last_result_id) == (200, 12)


def test_a_model_that_wanders_by_a_rounding_step_keeps_the_policy() -> None:
    base = PacingModel()
    assert not moved(base, replace(base, person_rate=0.1025))
    assert not moved(base, replace(base, talk=LogNormal(92.0, 0.8)))
    assert moved(base, replace(base, person_rate=0.105))
    assert moved(base, replace(base, talk=LogNormal(95.0, 0.8)))
    assert moved(base, replace(base, machine_answer_time=LogNormal(16.0, 0.35, 2.0, 26.0)))


def test_how_fast_numbers_fail_is_learned() -> None:
    learned = Learned()
    for n in range(MIN_SAMPLES):
        busy = attempt(CallOutcome.BUSY, answer_s=None, id=n + 1)
        assert busy.originated_at is not None
        placed(learned, replace(busy, ended_at=busy.originated_at + timedelta(seconds=0.4)))
    assert learned.model(28.0).fail_time_max_s == 0.5


async def test_placed_attempts_are_read_in_progress_or_ended(store: Store) -> None:
    """From an id on (the oldest call pacing has not classified), or, with nothing read yet or
    after a pause, from the first call placed since the window's start: ended, talking or
    still ringing."""
    campaign_id = await campaign_with_voters(store, phones(4))
    pairs = await store.claim_voters(campaign_id, 4, T0, [NY], 3)
    (_, old), (_, ended), (_, talking), (_, ringing) = pairs
    await store.update_attempt(
        old.id, state=CallState.ENDED, originated_at=T0, ended_at=T0 + timedelta(seconds=30)
    )
    later = T0 + timedelta(hours=1)
    await store.update_attempt(
        ended.id, state=CallState.ENDED, originated_at=later, ended_at=later + timedelta(seconds=3)
    )
    await store.update_attempt(talking.id, state=CallState.CONNECTED, amd_verdict="HUMAN")
    await store.update_attempt(ringing.id, state=CallState.DIALING, originated_at=later)
    since = later - timedelta(minutes=30)
    fresh = await store.placed_attempts(campaign_id, 0, since, 10)
    assert [a.id for a in fresh] == [ended.id, talking.id, ringing.id]
    assert fresh[1].amd_verdict == "HUMAN" and fresh[2].ended_at is None
    assert [a.id for a in await store.placed_attempts(campaign_id, talking.id, since, 10)] == [
        talking.id,
        ringing.id,
    ]
    after_a_pause = await store.placed_attempts(campaign_id, old.id, since, 2)
    assert [a.id for a in after_a_pause] == [ended.id, talking.id]  # the old one is skipped
    other = await campaign_with_voters(store, phones(1, start=10), name="Spring")
    assert await store.placed_attempts(other, 0, since, 10) == []


async def test_calls_that_end_at_the_same_moment_are_each_read_once(store: Store) -> None:
    """The read cursor is (end time, id): a batch that stops between two calls ending in the
    same microsecond neither skips nor repeats the second."""
    campaign_id = await campaign_with_voters(store, phones(3))
    pairs = await store.claim_voters(campaign_id, 3, T0, [NY], 3)
    for _, claimed in pairs:
        await store.update_attempt(
            claimed.id, state=CallState.ENDED, outcome=CallOutcome.BUSY, ended_at=T0
        )
    first = await store.ended_attempts(campaign_id, None, 2)
    last = first[-1]
    rest = await store.ended_attempts(campaign_id, last.ended_at, 2, last.id)
    ids = [a.id for a in first + rest]
    assert sorted(ids) == sorted(claimed.id for _, claimed in pairs)
    assert len(set(ids)) == 3
    assert await store.ended_attempts(campaign_id, T0, 2, max(ids)) == []
