"""What a campaign's calls teach the predictive pacing: the outcome mix and the durations it
models (engine/dialer/pacing/model.py). The mix comes from a time window of PLACED calls
(engine/dialer/pacing/placed.py: each counted once its kind must be known, none twice), the
answer and AMD times of people and machines from those calls as they are classified, talk
times from ended calls and wrap-up times from saved results.

`Learned` is plain data (JSON in, JSON out) so the engine can persist it per campaign and
pick up where it left off after a restart. Until a campaign has seen enough calls, its model
leans on the reference defaults (`PacingModel()`), as a Bayesian prior would. No I/O here.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from engine.dialer.pacing.base import contact_rate_ceiling
from engine.dialer.pacing.model import LogNormal, PacingModel
from engine.dialer.pacing.placed import (
    FAILED,
    KINDS,
    MACHINE,
    MIN_CALLS,
    NO_ANSWER,
    PERSON,
    WINDOW_S,
    PlacedCalls,
    seconds,
)
from engine.models import Attempt, CallOutcome

__all__ = ["DURATION_WINDOW", "FAILED", "MACHINE", "MIN_SAMPLES", "NO_ANSWER", "PERSON"]

DURATION_WINDOW = 1000
"""Recent samples each duration is learned from."""
PRIOR_ATTEMPTS = 50.0
"""The prior (the reference defaults) weighs as much as this many calls in the outcome mix."""
MIN_SAMPLES = 20
"""Durations keep their default until this many samples were seen."""


def _recent_durations() -> deque[float]:
    return deque(maxlen=DURATION_WINDOW)


@dataclass
class Learned:
    """The outcome mix of the calls placed in the last `window_s` dialing seconds, and recent
    samples of each duration, for one campaign."""

    placed: PlacedCalls = field(default_factory=PlacedCalls)
    answer_person_s: deque[float] = field(default_factory=_recent_durations)
    """Seconds from placing a call to a person answering it."""
    answer_machine_s: deque[float] = field(default_factory=_recent_durations)
    amd_person_s: deque[float] = field(default_factory=_recent_durations)
    amd_machine_s: deque[float] = field(default_factory=_recent_durations)
    talk_s: deque[float] = field(default_factory=_recent_durations)
    wrap_up_s: deque[float] = field(default_factory=_recent_durations)
    fail_s: deque[float] = field(default_factory=_recent_durations)
    """How long busy, disconnected and failing numbers took to fail."""
    calls_seen: int = 0
    """Placed calls classified so far (preview calls are not)."""
    ended_after: datetime | None = None
    """The end time of the last ended call whose talk time was read: where the next read starts."""
    last_attempt_id: int = 0
    """That attempt's id: others that ended at the same moment come after it by id."""
    last_result_id: int = 0
    """The last result whose wrap-up time was learned."""

    @classmethod
    def with_window(cls, window_s: float = WINDOW_S, min_calls: int = MIN_CALLS) -> Learned:
        return cls(placed=PlacedCalls(window_s=window_s, min_calls=min_calls))

    def see_placed(self, call: Attempt) -> None:
        """Take in one placed call as it is now, in progress or ended (read again at every
        refresh until its kind is known). Its answer, AMD or failing time is learned once,
        when its kind becomes known."""
        kind = self.placed.see(call)
        if kind is None:
            return
        self.calls_seen += 1
        answer = seconds(call.originated_at, call.answered_at)
        if kind in (PERSON, MACHINE) and answer is not None and answer >= 0:
            (self.answer_person_s if kind == PERSON else self.answer_machine_s).append(answer)
        amd = seconds(call.answered_at, call.amd_at)
        if kind in (PERSON, MACHINE) and amd is not None and amd >= 0:
            (self.amd_person_s if kind == PERSON else self.amd_machine_s).append(amd)
        failed = seconds(call.originated_at, call.ended_at)
        if kind == FAILED and failed is not None and failed >= 0:
            self.fail_s.append(failed)

    def advance(self, now: datetime, ring_out_s: float) -> None:
        """Count the calls placed long enough ago that their kind must be known."""
        self.placed.advance(now, ring_out_s)

    def observe_ended(self, call: Attempt) -> None:
        """Learn the talk time of one ended call (a contact of an automatic call)."""
        talk = seconds(call.bridged_at, call.ended_at)
        contact = call.outcome == CallOutcome.CONTACT and bool(call.amd_verdict)
        if contact and talk is not None and talk > 0:
            self.talk_s.append(talk)

    def observe_wrap_up(self, seconds: float) -> None:
        """A volunteer took this long after a call to save its result."""
        if seconds >= 0:
            self.wrap_up_s.append(max(seconds, 0.5))

    def model(self, ring_out_s: float, prior: PacingModel | None = None) -> PacingModel:
        """The PacingModel these observations imply, leaning on `prior` while they are few."""
        prior = prior or PacingModel()
        counts = self.placed.counts
        n = sum(counts.values())
        weight = PRIOR_ATTEMPTS
        person = (counts[PERSON] + weight * prior.person_rate) / (n + weight)
        machine = (counts[MACHINE] + weight * prior.machine_rate) / (n + weight)
        other = counts[NO_ANSWER] + counts[FAILED]
        prior_other = 1.0 - prior.person_rate - prior.machine_rate
        no_answer_share = (
            (counts[NO_ANSWER] + weight * prior_other * prior.no_answer_share)
            / (other + weight * prior_other)
            if other + weight * prior_other > 0
            else prior.no_answer_share
        )
        people = _fit(self.answer_person_s, prior.answer_time, 1.0, ring_out_s)
        machines = _fit(
            self.answer_machine_s, prior.machine_answer_time or prior.answer_time, 1.0, ring_out_s
        )
        return replace(
            prior,
            person_rate=_round(max(0.005, person), 0.0025),
            machine_rate=_round(machine, 0.0025),
            ring_out_s=ring_out_s,
            no_answer_share=_round(no_answer_share, 0.01),
            fail_time_max_s=_high(self.fail_s, prior.fail_time_max_s),
            answer_time=people,
            machine_answer_time=None if machines == people else machines,
            amd_person_s=_range(self.amd_person_s, prior.amd_person_s),
            amd_machine_s=_range(self.amd_machine_s, prior.amd_machine_s),
            talk=_fit(self.talk_s, prior.talk, 0.0, math.inf),
            wrap_up=_fit(self.wrap_up_s, prior.wrap_up, 0.0, math.inf),
        )

    def contact_rate_high(self) -> float:
        """The highest contact rate the recent calls leave plausible (engine/dialer/pacing/base.py
        `contact_rate_ceiling`), among calls that rang through: people, machines and calls
        that rang out, with the people among calls too recent to count added (a ceiling may
        err high, never low). Fast failures are left out."""
        counts = self.placed.counts
        people = counts[PERSON] + self.placed.young_people()
        return contact_rate_ceiling(people, people + counts[MACHINE] + counts[NO_ANSWER])

    def summary(self) -> dict[str, Any]:
        """What the dashboard shows: rates in percent, durations in seconds (None: not
        enough calls yet to say)."""
        counts = self.placed.counts
        n = sum(counts.values())

        def share(kind: str) -> float | None:
            return round(100.0 * counts[kind] / n, 1) if n else None

        def mean(samples: deque[float]) -> float | None:
            return round(sum(samples) / len(samples), 1) if samples else None

        return {
            "calls_seen": self.calls_seen,
            "calls_in_window": n,
            "contact_rate": share(PERSON),
            "machine_rate": share(MACHINE),
            "answer_seconds": mean(self.answer_person_s),
            "machine_answer_seconds": mean(self.answer_machine_s),
            "talk_seconds": mean(self.talk_s),
            "wrap_up_seconds": mean(self.wrap_up_s),
        }

    def to_json(self) -> str:
        return json.dumps(
            {
                "placed": self.placed.to_dict(),
                **{name: list(getattr(self, name)) for name in _DURATIONS},
                "calls_seen": self.calls_seen,
                "ended_after": None if self.ended_after is None else self.ended_after.isoformat(),
                "last_attempt_id": self.last_attempt_id,
                "last_result_id": self.last_result_id,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Learned:
        """What to_json wrote, or what the learner of earlier versions saved (its window of
        ended calls' outcomes becomes the start of the placed window, in dialing order).

        Raises ValueError for text that is neither."""
        try:
            raw = json.loads(text)
            ended_after = raw.get("ended_after")
            learned = cls(
                calls_seen=int(raw["calls_seen"]),
                ended_after=None if ended_after is None else datetime.fromisoformat(ended_after),
                last_attempt_id=int(raw.get("last_attempt_id", 0)),
                last_result_id=int(raw.get("last_result_id", 0)),
            )
            if "placed" in raw:
                learned.placed = PlacedCalls.from_dict(raw["placed"])
            else:
                _from_ended_window(learned, raw)
            for name in _DURATIONS:
                getattr(learned, name).extend(float(x) for x in raw.get(name, []))
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not learned pacing data: {error}") from error
        return learned


_DURATIONS = (
    "answer_person_s",
    "answer_machine_s",
    "amd_person_s",
    "amd_machine_s",
    "talk_s",
    "wrap_up_s",
    "fail_s",
)


def _from_ended_window(learned: Learned, raw: dict[str, Any]) -> None:
    """The learner before issue 15 kept the last 1,000 ended calls' kinds and one answer time
    for people and machines alike. Raises KeyError, TypeError or ValueError if it is not that."""
    outcomes = [str(k) for k in raw["outcomes"]]
    for n, kind in enumerate(outcomes):
        if kind not in KINDS:
            raise ValueError(f"unknown kind of call {kind!r}")
        learned.placed.add_counted(float(n - len(outcomes)), kind)
    answers = [float(x) for x in raw["answer_s"]]
    learned.answer_person_s.extend(answers)
    learned.answer_machine_s.extend(answers)


RATE_MOVE = 0.004
"""A contact or machine rate moves the policy once it changed by more than this (absolute),"""
RATE_MOVE_RELATIVE = 0.03
"""or by more than this share of itself;"""
DURATION_MOVE = 0.05
"""a duration once its mean changed by more than this share, or its cv by more than 0.15."""


def moved(old: PacingModel, new: PacingModel) -> bool:
    """Whether `new` differs from `old` enough to rebuild the policy on it: a model that
    wanders by a rounding step and back (as every sample moves it) keeps the policy, its
    memory and the campaign's CPU; a real change (a contact rate 3 % higher) does not wait."""

    def rate(a: float, b: float) -> bool:
        return abs(a - b) > max(RATE_MOVE, RATE_MOVE_RELATIVE * a)

    def law(a: LogNormal, b: LogNormal) -> bool:
        far = abs(a.mean - b.mean) > DURATION_MOVE * a.mean or abs(a.cv - b.cv) > 0.15
        return far or (a.low, a.high) != (b.low, b.high)

    def span(a: tuple[float, float], b: tuple[float, float]) -> bool:
        return max(abs(a[0] - b[0]), abs(a[1] - b[1])) > 0.5

    return (
        rate(old.person_rate, new.person_rate)
        or rate(old.machine_rate, new.machine_rate)
        or abs(old.no_answer_share - new.no_answer_share) > 0.03
        or abs(old.fail_time_max_s - new.fail_time_max_s) > 0.5
        or old.ring_out_s != new.ring_out_s
        or law(old.answer_time, new.answer_time)
        or law(old.machine_answer, new.machine_answer)
        or law(old.talk, new.talk)
        or law(old.wrap_up, new.wrap_up)
        or span(old.amd_person_s, new.amd_person_s)
        or span(old.amd_machine_s, new.amd_machine_s)
    )


def _round(x: float, step: float) -> float:
    """Learned figures are rounded, so a model that barely moved equals the last one and
    the policy's lookup tables (cached per model) are reused."""
    return round(round(x / step) * step, 6)


def _fit(samples: deque[float], default: LogNormal, low: float, high: float) -> LogNormal:
    if len(samples) < MIN_SAMPLES:
        return default
    floor = max(low, 0.1)
    if min(samples) >= floor and max(samples) <= high:
        clipped = list(samples)  # the usual case, ten times faster than clipping each
    else:
        clipped = [min(high, max(floor, x)) for x in samples]
    fitted = LogNormal.fit(clipped, low, high)
    return LogNormal(_round(fitted.mean, 0.5), _round(fitted.cv, 0.05), low, high)


def _high(samples: deque[float], default: float) -> float:
    """The 90th percentile of the samples (at least half a second)."""
    if len(samples) < MIN_SAMPLES:
        return default
    ordered = sorted(samples)
    return max(0.5, _round(ordered[int(0.9 * (len(ordered) - 1))], 0.25))


def _range(samples: deque[float], default: tuple[float, float]) -> tuple[float, float]:
    """The 10th to 90th percentile of the samples (at least half a second wide)."""
    if len(samples) < MIN_SAMPLES:
        return default
    ordered = sorted(samples)
    lo = _round(ordered[int(0.1 * (len(ordered) - 1))], 0.25)
    hi = _round(ordered[int(0.9 * (len(ordered) - 1))], 0.25)
    return (lo, max(hi, lo + 0.5))
