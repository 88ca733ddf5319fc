"""Synthetic streams of placed calls with known true rates, for the pacing learner's tests.

Calls are placed at a steady pace (about 0.09 a second per volunteer, as the predictive
dialer does at 10 % contacts); their kinds follow the true mix exactly (a low-discrepancy
sequence, so no sampling noise blurs a bias); answer, AMD, talk and failing times are drawn
from a seeded generator. `snapshot` shows a call as the store would at a given moment.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from engine.dialer.pacing.learning import Learned
from engine.models import Attempt, CallOutcome, CallState

T0 = datetime(2026, 10, 1, 16, 0, tzinfo=UTC)
CALLS_PER_VOLUNTEER_S = 0.09
GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
RING_OUT_S = 28.0


@dataclass(frozen=True)
class Call:
    id: int
    kind: str
    placed: float
    answered: float | None
    verdict: float | None
    ended: float


def _lognormal(rng: random.Random, mean: float, cv: float) -> float:
    s2 = math.log(1.0 + cv * cv)
    return rng.lognormvariate(math.log(mean) - s2 / 2.0, math.sqrt(s2))


def stream(
    volunteers: int,
    minutes: float,
    person: float,
    machine: float = 0.27,
    no_answer: float = 0.4,
    seed: int = 1,
    machine_answer_mean: float = 12.0,
    first_id: int = 1,
    start_s: float = 0.0,
    random_kinds: bool = False,
) -> list[Call]:
    """Calls placed over `minutes`; shares person / machine / no answer, the rest fail
    (exactly, or each call drawn at random with `random_kinds`, as a real list's calls are)."""
    rng = random.Random(seed)
    gap = 1.0 / (CALLS_PER_VOLUNTEER_S * volunteers)
    calls = []
    for i in range(int(minutes * 60.0 / gap)):
        placed = start_s + i * gap
        u = rng.random() if random_kinds else (i * GOLDEN) % 1.0
        if u < person + machine:
            is_person = u < person
            mean = 12.0 if is_person else machine_answer_mean
            answered = placed + min(26.0, max(2.0, _lognormal(rng, mean, 0.35)))
            verdict = answered + rng.uniform(1.0, 3.0 if is_person else 4.0)
            ended = verdict + (_lognormal(rng, 90.0, 0.8) if is_person else 0.5)
            kind = "person" if is_person else "machine"
            calls.append(Call(first_id + i, kind, placed, answered, verdict, ended))
        elif u < person + machine + no_answer:
            calls.append(Call(first_id + i, "no answer", placed, None, None, placed + RING_OUT_S))
        else:
            ended = placed + rng.uniform(1.0, 5.0)
            calls.append(Call(first_id + i, "failed", placed, None, None, ended))
    return calls


_OUTCOME = {
    "person": CallOutcome.CONTACT,
    "machine": CallOutcome.MACHINE,
    "no answer": CallOutcome.NO_ANSWER,
    "failed": CallOutcome.BUSY,
}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def snapshot(call: Call, now: float) -> Attempt:
    """The call as the store holds it `now` seconds into the stream."""
    answered = call.answered is not None and call.answered <= now
    decided = call.verdict is not None and call.verdict <= now
    ended = call.ended <= now
    state = CallState.DIALING
    if decided and call.kind == "person":
        state = CallState.CONNECTED
    if ended:
        state = CallState.ENDED
    verdict = {"person": "HUMAN", "machine": "MACHINE"}.get(call.kind, "") if decided else ""
    return Attempt(
        id=call.id,
        campaign_id=1,
        voter_id=call.id,
        phone="+12025550100",
        state=state,
        claimed_at=at(call.placed),
        originated_at=at(call.placed),
        answered_at=at(call.answered) if answered and call.answered is not None else None,
        amd_verdict=verdict,
        amd_at=at(call.verdict) if decided and call.verdict is not None else None,
        bridged_at=at(call.verdict) if decided and call.kind == "person" and call.verdict else None,
        ended_at=at(call.ended) if ended else None,
        outcome=_OUTCOME[call.kind] if ended else None,
    )


def feed(
    learned: Learned, calls: list[Call], until_s: float, start_s: float = 0.0, every_s: float = 10.0
) -> None:
    """Refresh `learned` every `every_s` from `start_s` to `until_s`, as the engine's loop does:
    the calls placed since the oldest one it has not classified, as they are at that moment
    (`calls` in id order)."""
    ids = [call.id for call in calls]
    now = start_s + every_s
    while now <= until_s + 1e-9:
        for call in calls[bisect_left(ids, learned.placed.read_from()) :]:
            if call.placed > now:
                break
            learned.see_placed(snapshot(call, now))
        learned.advance(at(now), RING_OUT_S)
        now += every_s
