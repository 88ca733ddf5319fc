"""What pacing learns from finished calls, how it is stored, and the campaign pacing that
reads it back after a restart."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest

from engine.dialer.campaign_pacing import CampaignPacing
from engine.dialer.pacing.base import AbandonGuard, PacingState
from engine.dialer.pacing.learning import MIN_SAMPLES, PRIOR_ATTEMPTS, Learned
from engine.dialer.pacing.model import PacingModel
from engine.dialer.pacing.policies import PredictivePacing, VicidialAdaptivePacing
from engine.models import Attempt, CallOutcome, CallState, Campaign, DialMode
from engine.store.sqlite.store import SqliteStore
from tests.unit.store_helpers import NY, T0, campaign_with_voters, phones, session_for


def attempt(
    outcome: CallOutcome,
    answer_s: float | None = 10.0,
    amd_s: float = 2.0,
    talk_s: float = 60.0,
    verdict: str = "HUMAN",
) -> Attempt:
    placed = T0
    answered = None if answer_s is None else placed + timedelta(seconds=answer_s)
    amd_at = None if answered is None else answered + timedelta(seconds=amd_s)
    bridged = amd_at if outcome == CallOutcome.CONTACT else None
    ended = (bridged or amd_at or placed + timedelta(seconds=28)) + timedelta(
        seconds=talk_s if bridged else 1.0
    )
    return Attempt(
        id=1,
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


def test_outcome_mix_moves_from_the_prior_towards_what_was_seen() -> None:
    learned = Learned()
    for n in range(200):
        if n % 5 == 0:
            learned.observe(attempt(CallOutcome.CONTACT))
        elif n % 5 == 1:
            learned.observe(attempt(CallOutcome.MACHINE, verdict="MACHINE"))
        else:
            learned.observe(attempt(CallOutcome.NO_ANSWER, answer_s=None))
    model = learned.model(28.0)
    expected = (40 + PRIOR_ATTEMPTS * 0.10) / (200 + PRIOR_ATTEMPTS)
    assert model.person_rate == pytest.approx(expected, abs=0.003)
    assert model.machine_rate == pytest.approx((40 + PRIOR_ATTEMPTS * 0.27) / 250, abs=0.003)
    assert model.no_answer_share > 0.9  # every non-answer seen rang out


def test_durations_are_fitted_once_there_are_enough_samples() -> None:
    learned = Learned()
    rng = random.Random(1)
    for _ in range(MIN_SAMPLES - 1):
        learned.observe(attempt(CallOutcome.CONTACT, talk_s=30.0))
    assert learned.model(28.0).talk == PacingModel().talk
    for _ in range(200):
        talk = rng.uniform(20.0, 40.0)
        learned.observe(attempt(CallOutcome.CONTACT, answer_s=6.0, amd_s=1.5, talk_s=talk))
        learned.observe_wrap_up(rng.uniform(4.0, 6.0))
    model = learned.model(20.0)
    assert model.talk.mean == pytest.approx(30.0, abs=1.0)
    assert model.wrap_up.mean == pytest.approx(5.0, abs=0.5)
    assert model.answer_time.mean == pytest.approx(6.0, abs=0.5)
    assert model.answer_time.high == 20.0 and model.ring_out_s == 20.0
    assert model.amd_person_s[0] == pytest.approx(1.5, abs=0.3)


def test_preview_calls_and_unfinished_attempts_teach_nothing() -> None:
    learned = Learned()
    learned.observe(attempt(CallOutcome.CONTACT, verdict=""))
    unfinished = Attempt(id=2, campaign_id=1, voter_id=1, phone="+1", state=CallState.DIALING)
    learned.observe(unfinished)
    assert learned.calls_seen == 0 and not learned.outcomes


def test_a_slightly_different_sample_gives_an_equal_model() -> None:
    """Rounded models let the policy reuse its cached tables."""
    a, b = Learned(), Learned()
    for n in range(300):
        a.observe(attempt(CallOutcome.CONTACT, talk_s=60.0 + n % 7))
        b.observe(attempt(CallOutcome.CONTACT, talk_s=60.0 + n % 7))
    b.observe(attempt(CallOutcome.CONTACT, talk_s=61.0))
    assert a.model(28.0) == b.model(28.0)


def test_learned_data_round_trips_through_json() -> None:
    learned = Learned()
    for outcome in (CallOutcome.CONTACT, CallOutcome.BUSY, CallOutcome.ABANDONED):
        learned.observe(attempt(outcome))
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
    store: SqliteStore,
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


async def test_campaign_pacing_learns_saves_and_resumes_after_a_restart(store: SqliteStore) -> None:
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


async def test_damaged_learned_data_starts_learning_over(store: SqliteStore) -> None:
    campaign_id = await campaign_with_voters(store, phones(1))
    await store.save_pacing(campaign_id, "not json", T0)
    pacing = await CampaignPacing.load(store, await store.get_campaign(campaign_id))
    assert pacing.learned.calls_seen == 0


async def test_the_policy_keeps_its_memory_until_the_settings_change(store: SqliteStore) -> None:
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


async def test_decisions_use_the_30_day_abandon_counts(store: SqliteStore) -> None:
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


def test_people_still_on_the_line_count_as_people_already() -> None:
    learned = Learned()
    for _ in range(90):
        learned.observe(attempt(CallOutcome.NO_ANSWER, answer_s=None))
    for _ in range(5):
        learned.observe(attempt(CallOutcome.CONTACT))
    early = learned.model(28.0)
    fair = learned.model(28.0, people_on_the_line=5)
    assert fair.person_rate > early.person_rate
    assert fair.person_rate == pytest.approx((10 + PRIOR_ATTEMPTS * 0.1) / (100 + 50), abs=0.003)


def test_how_fast_numbers_fail_is_learned() -> None:
    learned = Learned()
    for _ in range(MIN_SAMPLES):
        busy = attempt(CallOutcome.BUSY, answer_s=None)
        assert busy.originated_at is not None
        learned.observe(replace(busy, ended_at=busy.originated_at + timedelta(seconds=0.4)))
    assert learned.model(28.0).fail_time_max_s == 0.5


async def test_people_on_the_line_are_counted_by_the_store(store: SqliteStore) -> None:
    campaign_id = await campaign_with_voters(store, phones(3))
    pairs = await store.claim_voters(campaign_id, 3, T0, [NY], 3)
    (_, a), (_, b), (_, c) = pairs
    await store.update_attempt(a.id, state=CallState.CONNECTED, amd_verdict="HUMAN")
    await store.update_attempt(b.id, state=CallState.CONNECTING, amd_verdict="NOTSURE")
    await store.update_attempt(c.id, state=CallState.CONNECTED)  # a preview call: no AMD
    assert await store.people_on_the_line(campaign_id) == 2


async def test_calls_that_end_at_the_same_moment_are_each_read_once(store: SqliteStore) -> None:
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
