"""What a campaign's finished calls teach the predictive pacing: the outcome mix and the
durations it models (engine/dialer/pacing/model.py), learned from a window of recent calls.

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
from engine.models import Attempt, CallOutcome

OUTCOME_WINDOW = 1000
"""Recent attempts the outcome mix is learned from."""
DURATION_WINDOW = 400
"""Recent samples each duration is learned from."""
PRIOR_ATTEMPTS = 50.0
"""The defaults weigh as much as this many attempts in the outcome mix."""
MIN_SAMPLES = 20
"""Durations keep their default until this many samples were seen."""

PERSON, MACHINE, NO_ANSWER, FAILED = "person", "machine", "no answer", "failed"

_KIND = {
    CallOutcome.CONTACT: PERSON,
    CallOutcome.ABANDONED: PERSON,
    CallOutcome.MACHINE: MACHINE,
    CallOutcome.VOICEMAIL_LEFT: MACHINE,
    CallOutcome.HUNG_UP_DURING_AMD: MACHINE,
    CallOutcome.NO_ANSWER: NO_ANSWER,
    CallOutcome.BUSY: FAILED,
    CallOutcome.UNALLOCATED: FAILED,
    CallOutcome.REJECTED: FAILED,
    CallOutcome.CONGESTION: FAILED,
    CallOutcome.FAILED: FAILED,
}
"""How pacing sees each outcome: answered calls that end without a volunteer (machines,
callers who hang up during AMD) all count as machines."""


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def _recent_outcomes() -> deque[str]:
    return deque(maxlen=OUTCOME_WINDOW)


def _recent_durations() -> deque[float]:
    return deque(maxlen=DURATION_WINDOW)


@dataclass
class Learned:
    """Recent outcomes and durations of one campaign's calls."""

    outcomes: deque[str] = field(default_factory=_recent_outcomes)
    answer_s: deque[float] = field(default_factory=_recent_durations)
    amd_person_s: deque[float] = field(default_factory=_recent_durations)
    amd_machine_s: deque[float] = field(default_factory=_recent_durations)
    talk_s: deque[float] = field(default_factory=_recent_durations)
    wrap_up_s: deque[float] = field(default_factory=_recent_durations)
    fail_s: deque[float] = field(default_factory=_recent_durations)
    """How long busy, disconnected and failing numbers took to fail."""
    calls_seen: int = 0
    ended_after: datetime | None = None
    """The end time of the last attempt learned from: where the next read starts."""
    last_attempt_id: int = 0
    """That attempt's id: others that ended at the same moment come after it by id."""
    last_result_id: int = 0
    """The last result whose wrap-up time was learned."""

    def observe(self, call: Attempt) -> None:
        """Learn from one finished call. Preview calls (placed by a volunteer, no AMD) and
        unfinished attempts are ignored."""
        kind = _KIND.get(call.outcome) if call.outcome else None
        if kind is None or (kind == PERSON and not call.amd_verdict):
            return
        self.calls_seen += 1
        self.outcomes.append(kind)
        answer = _seconds(call.originated_at, call.answered_at)
        if kind in (PERSON, MACHINE) and answer is not None and answer >= 0:
            self.answer_s.append(answer)
        amd = _seconds(call.answered_at, call.amd_at)
        if amd is not None and amd >= 0:
            (self.amd_person_s if kind == PERSON else self.amd_machine_s).append(amd)
        failed = _seconds(call.originated_at, call.ended_at)
        if kind == FAILED and failed is not None and failed >= 0:
            self.fail_s.append(failed)
        talk = _seconds(call.bridged_at, call.ended_at)
        if call.outcome == CallOutcome.CONTACT and talk is not None and talk > 0:
            self.talk_s.append(talk)

    def observe_wrap_up(self, seconds: float) -> None:
        """A volunteer took this long after a call to save its result."""
        if seconds >= 0:
            self.wrap_up_s.append(max(seconds, 0.5))

    def model(
        self, ring_out_s: float, prior: PacingModel | None = None, people_on_the_line: int = 0
    ) -> PacingModel:
        """The PacingModel these observations imply, leaning on `prior` while they are few.

        `people_on_the_line`: live answers still connecting or talking. Calls are learned
        from when they end, and people's calls end last, so without them the contact rate
        would read low for the first minutes of a shift."""
        prior = prior or PacingModel()
        counts = {k: self.outcomes.count(k) for k in (PERSON, MACHINE, NO_ANSWER, FAILED)}
        counts[PERSON] += people_on_the_line
        n = len(self.outcomes) + people_on_the_line
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
        return replace(
            prior,
            person_rate=_round(max(0.005, person), 0.0025),
            machine_rate=_round(machine, 0.0025),
            ring_out_s=ring_out_s,
            no_answer_share=_round(no_answer_share, 0.01),
            fail_time_max_s=_high(self.fail_s, prior.fail_time_max_s),
            answer_time=_fit(self.answer_s, prior.answer_time, 1.0, ring_out_s),
            amd_person_s=_range(self.amd_person_s, prior.amd_person_s),
            amd_machine_s=_range(self.amd_machine_s, prior.amd_machine_s),
            talk=_fit(self.talk_s, prior.talk, 0.0, math.inf),
            wrap_up=_fit(self.wrap_up_s, prior.wrap_up, 0.0, math.inf),
        )

    def contact_rate_high(self, people_on_the_line: int = 0) -> float:
        """The highest contact rate the recent calls leave plausible (engine/dialer/pacing/base.py
        `contact_rate_ceiling`), among calls that rang through: people (those still on the
        line included), machines and calls that rang out. Fast failures are left out, as
        they end first: counting them would read the rate low at the start of a shift."""
        people = self.outcomes.count(PERSON) + people_on_the_line
        rang = people + self.outcomes.count(MACHINE) + self.outcomes.count(NO_ANSWER)
        return contact_rate_ceiling(people, rang)

    def summary(self) -> dict[str, Any]:
        """What the dashboard shows: rates in percent, durations in seconds (None: not
        enough calls yet to say)."""
        n = len(self.outcomes)

        def share(kind: str) -> float | None:
            return round(100.0 * self.outcomes.count(kind) / n, 1) if n else None

        def mean(samples: deque[float]) -> float | None:
            return round(sum(samples) / len(samples), 1) if samples else None

        return {
            "calls_seen": self.calls_seen,
            "contact_rate": share(PERSON),
            "machine_rate": share(MACHINE),
            "answer_seconds": mean(self.answer_s),
            "talk_seconds": mean(self.talk_s),
            "wrap_up_seconds": mean(self.wrap_up_s),
        }

    def to_json(self) -> str:
        return json.dumps(
            {
                "outcomes": list(self.outcomes),
                "answer_s": list(self.answer_s),
                "amd_person_s": list(self.amd_person_s),
                "amd_machine_s": list(self.amd_machine_s),
                "talk_s": list(self.talk_s),
                "wrap_up_s": list(self.wrap_up_s),
                "fail_s": list(self.fail_s),
                "calls_seen": self.calls_seen,
                "ended_after": None if self.ended_after is None else self.ended_after.isoformat(),
                "last_attempt_id": self.last_attempt_id,
                "last_result_id": self.last_result_id,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Learned:
        """Raises ValueError for text that is not what to_json wrote."""
        try:
            raw = json.loads(text)
            ended_after = raw.get("ended_after")
            learned = cls(
                calls_seen=int(raw["calls_seen"]),
                ended_after=None if ended_after is None else datetime.fromisoformat(ended_after),
                last_attempt_id=int(raw.get("last_attempt_id", 0)),
                last_result_id=int(raw.get("last_result_id", 0)),
            )
            learned.outcomes.extend(str(k) for k in raw["outcomes"])
            for name in ("answer_s", "amd_person_s", "amd_machine_s", "talk_s", "wrap_up_s"):
                getattr(learned, name).extend(float(x) for x in raw[name])
            learned.fail_s.extend(float(x) for x in raw.get("fail_s", []))
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not learned pacing data: {error}") from error
        return learned


def _round(x: float, step: float) -> float:
    """Learned figures are rounded, so a model that barely moved equals the last one and
    the policy's lookup tables (cached per model) are reused."""
    return round(round(x / step) * step, 6)


def _fit(samples: deque[float], default: LogNormal, low: float, high: float) -> LogNormal:
    if len(samples) < MIN_SAMPLES:
        return default
    clipped = [min(high, max(low, x, 0.1)) for x in samples]
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
