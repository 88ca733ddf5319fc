"""Pacing policies beyond power dialing: preview, VICIdial-style adaptive and predictive.

Each is a `Pacing` (engine/dialer/pacing/base.py): `calls_to_place(state)` reads a `PacingState` and
returns how many new calls to place now. None does I/O. The adaptive and predictive
policies keep a little memory between decisions (samples, dial level), so the caller must
keep one instance per campaign and ask it at every tick; bench/pacing drives these very
objects in a discrete-event simulation.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from engine.dialer.pacing.base import PacingState
from engine.dialer.pacing.half_hour import (
    HALF_HOUR_GAIN,
    HALF_HOUR_MARGIN,
    half_hour_budget,
    half_hour_factor,
)
from engine.dialer.pacing.model import HorizonTables, PacingModel, horizon_tables
from engine.errors import InvalidInput


@dataclass(frozen=True)
class PreviewPacing:
    """Preview dialing: the volunteer reads the voter's card and presses Call.

    The dialer places no automatic calls at all; the volunteer's own click places the one
    call (so nobody is ever abandoned). Always returns 0.
    """

    def calls_to_place(self, state: PacingState) -> int:
        return 0


def _volunteers(state: PacingState) -> int:
    return state.ready_volunteers + len(state.talking_elapsed) + len(state.wrap_up_elapsed)


@dataclass
class VicidialAdaptivePacing:
    """VICIdial's adaptive predictive dialing (AST_VDadapt.pl + AST_VDauto_dial.pl), as far
    as its published behaviour goes.

    Implemented:
    - Every tick a sample of ready volunteers and live answers waiting goes into a ring of
      the last 15 samples.
    - Every `adjust_every_s` (15 s, VDadapt's loop) the differential = average ready minus
      average waiting, divided by the average number of active (not wrap-up, i.e. not
      "paused") volunteers, moves the dial level: level += level * differential * intensity,
      where intensity = 1 + adaptive_intensity / 100 (VICIdial's -40..+40 setting).
    - The level stays within [1.0, adaptive_maximum_level] (default 3.0).
    - Drop-rate limit (ADAPT_HARD_LIMIT): when the shift's abandon rate exceeds
      `dropped_percentage` the level falls back to 1.0 until the rate is below it again.
    - Lines as AST_VDauto_dial does with available_only_ratio_tally = N: goal =
      floor(level * (ready + talking volunteers)), minus every live call of the campaign
      (ringing, in AMD, waiting and talking).

    Simplified: one sample per tick instead of VICIdial's per-server sampling; no
    ADAPT_TAPERED / ADAPT_AVERAGE shift-time tapering; no adaptive_dl_diff_target (0); drop
    rate counted against live answers (VICIdial counts against answered calls, which may
    include machines when AMD is off).
    """

    maximum_level: float = 3.0
    intensity: int = 0
    dropped_percentage: float = 3.0
    adjust_every_s: float = 15.0
    level: float = 1.0
    _samples: deque[tuple[int, int, int]] = field(
        init=False, repr=False, default_factory=lambda: deque(maxlen=15)
    )
    _last_adjust: float | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        if self.maximum_level < 1.0:
            raise InvalidInput(f"maximum dial level must be at least 1, not {self.maximum_level}")
        if not -40 <= self.intensity <= 40:
            raise InvalidInput(f"intensity must be between -40 and 40, not {self.intensity}")

    def calls_to_place(self, state: PacingState) -> int:
        active = state.ready_volunteers + len(state.talking_elapsed)
        self._samples.append((state.ready_volunteers, state.connecting, active))
        if self._last_adjust is None:
            self._last_adjust = state.now
        elif state.now - self._last_adjust >= self.adjust_every_s:
            self._last_adjust = state.now
            self._adjust(state)
        if state.ready_volunteers <= 0 or state.voters_available <= 0:
            return 0
        live = state.in_flight + state.connecting + len(state.talking_elapsed)
        goal = math.floor(self.level * active) - live
        return max(0, min(goal, state.voters_available))

    def _adjust(self, state: PacingState) -> None:
        if state.live_answers and 100.0 * state.abandons / state.live_answers > (
            self.dropped_percentage
        ):
            self.level = 1.0
            return
        n = len(self._samples)
        ready = sum(s[0] for s in self._samples) / n
        waiting = sum(s[1] for s in self._samples) / n
        agents = sum(s[2] for s in self._samples) / n
        if agents <= 0:
            return
        differential = (ready - waiting) / agents
        change = self.level * differential * (1.0 + self.intensity / 100.0)
        self.level = min(self.maximum_level, max(1.0, self.level + change))


def everyone_on_the_way(row: list[float], q: int) -> list[float]:
    """Count, at every horizon, the people whose verdicts come before the latest one.

    A new call answered early takes a volunteer that a person already on the way (a call
    ringing longer, or placed in the same tick) would have had, so that person is abandoned
    instead: the harm is the same whichever of the two comes first. Counting only people
    who arrive before the new call let the dialer keep adding calls whose people arrive
    early while the ones already ringing would find nobody; at the start of a shift, with
    every volunteer ready at once, that abandoned a tenth of the first wave of answers.
    """
    return [row[q - 1]] * q + [row[2 * q - 1]] * q


def _colsum(rows: list[tuple[float, ...]], width: int) -> list[float]:
    if not rows:
        return [0.0] * width
    return [math.fsum(col) for col in zip(*rows, strict=True)]


def _lookup(
    table: tuple[tuple[float, ...], ...], elapsed: tuple[float, ...]
) -> list[tuple[float, ...]]:
    last = len(table) - 1
    return [table[min(last, int(e))] for e in elapsed]


@dataclass
class PredictivePacing:
    """Place a call only while the chance it is abandoned, should a person answer, stays
    below θ; θ is steered by the shift's abandon budget.

    For a new call answered by a person, its verdict comes at one of Q quadrature points v
    of the answer-time distribution (plus AMD). It is abandoned when the volunteers free by
    v + 2 s (ready ones, those whose talk and wrap-up end in time, from the learned
    residual durations given how long each has been going) are no more than the people
    already on the way (live answers waiting, calls in AMD and still ringing, by their
    elapsed time, and the other new calls) whose verdicts come before the latest horizon,
    whatever their order (`everyone_on_the_way`). Both counts are sums of independent 0/1
    events; their difference is taken as normal. The policy places the largest k such that
    the k-th new call's abandon probability is at most θ, capped at
    `max_lines_per_volunteer` calls per volunteer signed in.

    Live answers already waiting count as demand only as far as a volunteer can still take
    them within the 2-second rule (`_waiting_served`); the rest are abandoned either way.

    θ = theta_ref * exp(gain * budget left), the budget left being the abandons the target
    allows over the shift's live answers (plus `prior_answers`) minus the abandons so far:
    an integral controller, so the shift's rate settles at the target whatever the bias of
    the normal approximation. Up to `steer_volunteers` volunteers each abandon over budget
    cuts θ by 26 % (gain `steer_gain`); larger campaigns take smaller steps, by the square
    root of their size (`steer_gain_for`). A spent budget drives θ to `theta_min`, where the
    policy barely over-dials.

    With `window_limit` set (the campaign's half-hour guard), θ is also cut while the last
    half hour's abandons run short of that share of its live answers, less a margin
    (engine/dialer/pacing/half_hour.py).
    """

    model: PacingModel = field(default_factory=PacingModel)
    target_abandon: float = 0.027
    theta_ref: float = 0.02
    theta_min: float = 0.002
    theta_max: float = 0.3
    prior_answers: float = 20.0
    steer_gain: float = 0.3
    max_lines_per_volunteer: float = 12.0
    steer_volunteers: float = 5.0
    patience_s: float = 2.0
    window_limit: float = 0.0
    """The most the last half hour may abandon (0: no half-hour guard); θ is cut while the
    half hour runs short of abandons to spend (engine/dialer/pacing/half_hour.py)."""
    window_margin: float = HALF_HOUR_MARGIN
    window_gain: float = HALF_HOUR_GAIN

    def __post_init__(self) -> None:
        if not 0.0 < self.target_abandon < 1.0:
            raise InvalidInput(f"target abandon rate must be in (0, 1), not {self.target_abandon}")
        if self.max_lines_per_volunteer < 1.0:
            raise InvalidInput(
                f"lines per volunteer must be at least 1, not {self.max_lines_per_volunteer}"
            )
        self._tables: HorizonTables = horizon_tables(self.model)

    def theta(self, state: PacingState) -> float:
        """θ = theta_ref * exp(gain * budget left), clipped to [theta_min, theta_max]."""
        left = self.budget_left(state)
        theta = self.theta_ref * math.exp(self.steer_gain_for(state) * left)
        if self.window_limit > 0.0:
            theta *= half_hour_factor(self.half_hour_budget(state), self.window_gain)
        return min(self.theta_max, max(self.theta_min, theta))

    def steer_gain_for(self, state: PacingState) -> float:
        """The controller's step per abandon: `steer_gain`, shrunk beyond `steer_volunteers`.

        A campaign with N volunteers sees abandons N times as often, and with a fixed step
        per abandon log θ wanders as widely at N = 100 as at N = 5 (its spread goes as the
        square root of the step, whatever N): at N = 100 θ swung from 0.014 to 0.11 (10th
        to 90th percentile) within a shift. Scaling the step by sqrt(steer_volunteers / N)
        narrows that while the loop, which sees N times more abandons, still settles within
        the first hour; a smaller step (1 / N) left the budget unspent after 8 hours. The
        step depends only on the campaign's size, so rolling 30-day counts work the same way
        as a shift's.
        """
        volunteers = max(1, _volunteers(state))
        return self.steer_gain * math.sqrt(min(1.0, self.steer_volunteers / volunteers))

    def half_hour_budget(self, state: PacingState) -> float:
        """Abandons the last half hour can still take, less the margin (negative: short)."""
        return half_hour_budget(
            state.window_live_answers,
            state.window_abandons,
            self.model.person_rate * state.in_flight,
            self.window_limit,
            self.window_margin,
        )

    def budget_left(self, state: PacingState) -> float:
        """Abandons the target still allows this shift (negative when overspent)."""
        allowed = self.target_abandon * (state.live_answers + self.prior_answers)
        return allowed - state.abandons

    def calls_to_place(self, state: PacingState) -> int:
        volunteers = _volunteers(state)
        if volunteers <= 0 or state.voters_available <= 0:
            return 0
        lines = state.in_flight + state.connecting
        room = min(
            math.floor(self.max_lines_per_volunteer * volunteers) - lines,
            state.voters_available,
        )
        if room <= 0:
            return 0
        free, first = self._supply_and_demand(state)
        theta = self.theta(state)
        lo, hi = 0, room
        while lo < hi:
            k = (lo + hi + 1) // 2
            if self.abandon_probability(free, first, k) <= theta:
                lo = k
            else:
                hi = k - 1
        return lo

    def _supply_and_demand(self, state: PacingState) -> tuple[list[float], list[float]]:
        """Means then variances at each horizon of volunteers free and verdicts first."""
        t = self._tables
        q = len(t.verdict_s)
        free = _colsum(
            _lookup(t.talking, state.talking_elapsed) + _lookup(t.wrap_up, state.wrap_up_elapsed),
            2 * q,
        )
        unknown = max(0, state.in_flight - len(state.ringing_elapsed) - len(state.amd_elapsed))
        first = _colsum(
            _lookup(t.ringing, state.ringing_elapsed + (0.0,) * unknown)
            + _lookup(t.amd, state.amd_elapsed),
            2 * q,
        )
        waiting = self._waiting_served(state)
        # Each waiting person is taken with probability waiting / connecting: Bernoulli.
        for i in range(q):
            free[i] += state.ready_volunteers
            first[i] += waiting
            first[q + i] += waiting * (1.0 - min(1.0, waiting / max(1, state.connecting)))
        return free, everyone_on_the_way(first, q)

    def _waiting_served(self, state: PacingState) -> float:
        """Expected live answers now waiting that a volunteer will still take.

        Someone waiting has at most `patience_s` left; a volunteer who frees in that time
        takes them (and is then busy at the new call's verdict), otherwise they are
        abandoned and take nobody. Counting every waiting person as demand made the policy
        hold back calls for volunteers who would in fact be free. Busy volunteers free at
        about (talking + wrap-up) / mean (talk + wrap-up) per second; ready ones take a
        waiting person at once.
        """
        if state.connecting <= 0:
            return 0.0
        busy = len(state.talking_elapsed) + len(state.wrap_up_elapsed)
        cycle = self.model.talk.mean + self.model.wrap_up.mean
        frees = state.ready_volunteers + self.patience_s * busy / cycle
        return min(float(state.connecting), frees)

    def abandon_probability(self, free: list[float], first: list[float], k: int) -> float:
        """The k-th new call's abandon probability should a person answer it."""
        q = len(self._tables.verdict_s)
        new = everyone_on_the_way(list(self._tables.ringing[0]), q)
        total = 0.0
        for i in range(q):
            mean = free[i] - first[i] - (k - 1) * new[i]
            var = free[q + i] + first[q + i] + (k - 1) * new[q + i]
            if var < 1e-9:
                total += 1.0 if mean < 0.5 else 0.0
            else:
                total += 0.5 * (1.0 + math.erf((0.5 - mean) / math.sqrt(2.0 * var)))
        return total / q
