"""What a campaign has learned about its calls, for the predictive pacing policy.

`PacingModel` is a plain dataclass (JSON in, JSON out) so the engine can persist one per
campaign; `HorizonTables` turns it into per-second lookup tables that the policy sums at
every decision. Nothing here does I/O.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache


@dataclass(frozen=True)
class LogNormal:
    """A duration, by its mean and coefficient of variation, optionally clipped."""

    mean: float
    cv: float
    low: float = 0.0
    high: float = math.inf

    @property
    def _mu_sigma(self) -> tuple[float, float]:
        s2 = math.log(1.0 + self.cv * self.cv)
        return math.log(self.mean) - s2 / 2.0, math.sqrt(s2)

    def cdf(self, x: float) -> float:
        if x < self.low or x <= 0.0:
            return 0.0
        if x >= self.high:
            return 1.0
        mu, sigma = self._mu_sigma
        return 0.5 * (1.0 + math.erf((math.log(x) - mu) / (sigma * math.sqrt(2.0))))

    def quantile_points(self, n: int) -> list[float]:
        """n durations at the mid-quantiles (i + 0.5) / n, clipped to [low, high]."""
        mu, sigma = self._mu_sigma
        points = []
        for i in range(n):
            z = _normal_quantile((i + 0.5) / n)
            points.append(min(self.high, max(self.low, math.exp(mu + sigma * z))))
        return points

    @classmethod
    def fit(cls, samples: list[float], low: float = 0.0, high: float = math.inf) -> LogNormal:
        """Moment fit to observed durations (e.g. the campaign's last talk times).

        Raises ValueError for fewer than two samples or a non-positive mean.
        """
        if len(samples) < 2:
            raise ValueError("need at least two samples to fit a duration")
        mean = sum(samples) / len(samples)
        if mean <= 0:
            raise ValueError("durations must have a positive mean")
        var = sum((x - mean) ** 2 for x in samples) / (len(samples) - 1)
        return cls(mean, max(0.05, math.sqrt(var) / mean), low, high)


def _normal_quantile(p: float) -> float:
    lo, hi = -8.0, 8.0
    for _ in range(60):
        mid = (lo + hi) / 2.0
        if 0.5 * (1.0 + math.erf(mid / math.sqrt(2.0))) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


@dataclass(frozen=True)
class PacingModel:
    """The outcome mix and durations a campaign's calls follow (reference defaults)."""

    person_rate: float = 0.10
    """Share of placed calls a person answers: the contact rate."""
    machine_rate: float = 0.27
    answer_time: LogNormal = field(default_factory=lambda: LogNormal(12.0, 0.35, 2.0, 26.0))
    """Seconds from placing a call until a person answers it."""
    ring_out_s: float = 28.0
    """Unanswered calls are given up after this long."""
    fail_time_max_s: float = 5.0
    """Busy and disconnected numbers fail within this long."""
    no_answer_share: float = 0.65
    """Of the calls neither a person nor a machine answers, the share that rings out."""
    amd_person_s: tuple[float, float] = (1.0, 3.0)
    amd_machine_s: tuple[float, float] = (2.0, 4.0)
    talk: LogNormal = field(default_factory=lambda: LogNormal(90.0, 0.8))
    wrap_up: LogNormal = field(default_factory=lambda: LogNormal(15.0, 0.5))
    machine_answer_time: LogNormal | None = None
    """Seconds from placing a call until a machine answers it; None: as people do
    (`answer_time`). Machines often pick up later than people."""

    @property
    def machine_answer(self) -> LogNormal:
        return self.machine_answer_time or self.answer_time

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PacingModel:
        """Raises ValueError (json.JSONDecodeError) or TypeError for malformed text."""
        raw = json.loads(text)
        for key in ("answer_time", "talk", "wrap_up"):
            raw[key] = LogNormal(**raw[key])
        if raw.get("machine_answer_time") is not None:
            raw["machine_answer_time"] = LogNormal(**raw["machine_answer_time"])
        for key in ("amd_person_s", "amd_machine_s"):
            raw[key] = tuple(raw[key])
        return cls(**raw)


HORIZON_POINTS = 4
"""How many points of a new call's answer-time distribution the policy averages over."""


@dataclass(frozen=True)
class HorizonTables:
    """Per-second lookup rows: row[e] = (mean_1..mean_Q, var_1..var_Q) of a 0/1 event
    for something that has been in its phase e seconds, at each of the Q horizons."""

    verdict_s: tuple[float, ...]
    """When a new call answered by a person would reach its verdict: Q quadrature points."""
    talking: tuple[tuple[float, ...], ...]
    """Volunteer on a call: free (talk and wrap-up done) by verdict + 2 s."""
    wrap_up: tuple[tuple[float, ...], ...]
    """Volunteer in wrap-up: free by verdict + 2 s."""
    ringing: tuple[tuple[float, ...], ...]
    """Call still ringing: a person's verdict arrives before the new call's."""
    amd: tuple[tuple[float, ...], ...]
    """Call in AMD: a person's verdict arrives before the new call's."""


def _row(ps: list[float]) -> tuple[float, ...]:
    ps = [min(1.0, max(0.0, p)) for p in ps]
    return tuple(ps) + tuple(p * (1.0 - p) for p in ps)


def _still_ringing_person(m: PacingModel, e: float) -> float:
    other = 1.0 - m.person_rate - m.machine_rate
    person = m.person_rate * (1.0 - m.answer_time.cdf(e))
    machine = m.machine_rate * (1.0 - m.machine_answer.cdf(e))
    no_answer = other * m.no_answer_share * (1.0 if e < m.ring_out_s else 0.0)
    failing = other * (1.0 - m.no_answer_share) * max(0.0, 1.0 - e / m.fail_time_max_s)
    total = person + machine + no_answer + failing
    return person / total if total > 0 else 0.0


def _residual(cdf_e: float, cdf_x: float) -> float:
    survive = 1.0 - cdf_e
    return (cdf_x - cdf_e) / survive if survive > 1e-12 else 1.0


@lru_cache(maxsize=32)
def horizon_tables(m: PacingModel) -> HorizonTables:
    amd_mid = sum(m.amd_person_s) / 2.0
    verdicts = [a + amd_mid for a in m.answer_time.quantile_points(HORIZON_POINTS)]
    free_by = [v + 2.0 for v in verdicts]
    wraps = m.wrap_up.quantile_points(5)
    talking = []
    for e in range(0, 1201):
        fe = m.talk.cdf(e)
        talking.append(
            _row(
                [
                    sum(_residual(fe, m.talk.cdf(e + h - w)) for w in wraps) / len(wraps)
                    for h in free_by
                ]
            )
        )
    wrap_up = []
    for e in range(0, 301):
        fe = m.wrap_up.cdf(e)
        wrap_up.append(_row([_residual(fe, m.wrap_up.cdf(e + h)) for h in free_by]))
    ringing = []
    for e in range(0, int(m.ring_out_s) + 2):
        fe = m.answer_time.cdf(e)
        person = _still_ringing_person(m, e)
        ringing.append(
            _row([person * _residual(fe, m.answer_time.cdf(e + v - amd_mid)) for v in verdicts])
        )
    lo_p, hi_p = m.amd_person_s
    lo_m, hi_m = m.amd_machine_s
    amd = []
    for e in range(0, int(hi_m) + 2):
        sp = min(1.0, max(0.0, (hi_p - e) / (hi_p - lo_p)))
        sm = min(1.0, max(0.0, (hi_m - e) / (hi_m - lo_m)))
        weight = m.person_rate * sp + m.machine_rate * sm
        person = m.person_rate * sp / weight if weight > 0 else 0.0
        amd.append(_row([person for _ in verdicts]))
    return HorizonTables(
        tuple(verdicts), tuple(talking), tuple(wrap_up), tuple(ringing), tuple(amd)
    )
