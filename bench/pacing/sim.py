"""The campaign simulation: calls, volunteers and the 2-second rule, on a heapq clock.

`simulate(policy, ...)` drives a `Pacing` object exactly as the dialer would (a decision
every second and whenever a volunteer becomes ready); `simulate_manual` and
`simulate_oracle` are the baselines. All three return a `RunResult`.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass, field

from engine.dialer.pacing.base import Pacing, PacingState, contact_rate_ceiling
from engine.dialer.pacing.half_hour import HALF_HOUR_S
from engine.dialer.pacing.model import LogNormal, PacingModel

ABANDON_AFTER_S = 2.0
LEARN_WINDOW = 1000
"""Calls that rang through the contact rate's ceiling is read from, as the engine learns it
(engine/dialer/pacing/learning.py: the last 1,000 outcomes)."""
PERSON, MACHINE, NO_ANSWER, FAILING = range(4)
MANUAL_DIAL_S = 10.0
MANUAL_MACHINE_LISTEN_S = 4.0
MANUAL_NO_CONTACT_NOTE_S = 3.0


@dataclass(frozen=True)
class Params:
    """The simulated world: the reference parameters, with a given contact rate."""

    contact_rate: float = 0.10
    machine_rate: float = 0.27
    no_answer: float = 0.65
    busy: float = 0.15
    answer_time: LogNormal = field(default_factory=lambda: LogNormal(12.0, 0.35, 2.0, 26.0))
    ring_out_s: float = 28.0
    talk: LogNormal = field(default_factory=lambda: LogNormal(90.0, 0.8))
    wrap_up: LogNormal = field(default_factory=lambda: LogNormal(15.0, 0.5))
    amd_person: tuple[float, float] = (1.0, 3.0)
    amd_machine: tuple[float, float] = (2.0, 4.0)
    machine_answer_time: LogNormal | None = None
    """When machines answer; None: as people do (`answer_time`)."""
    schedule: tuple[tuple[float, float], ...] = ()
    """A drifting world: (hour, contact rate) points, linear in between (two points at the
    same hour make a step); empty: `contact_rate` all shift."""

    def rate_at(self, t: float) -> float:
        """The contact rate `t` seconds into the shift."""
        points, hour = self.schedule, t / 3600.0
        if not points:
            return self.contact_rate
        if hour <= points[0][0]:
            return points[0][1]
        for (h0, r0), (h1, r1) in itertools.pairwise(points):
            if hour < h1:
                return r0 if h1 == h0 else r0 + (r1 - r0) * (hour - h0) / (h1 - h0)
        return points[-1][1]

    def model(self) -> PacingModel:
        """What a campaign would have learned about this world (the true parameters)."""
        return PacingModel(
            person_rate=self.contact_rate,
            machine_rate=self.machine_rate,
            answer_time=self.answer_time,
            ring_out_s=self.ring_out_s,
            no_answer_share=self.no_answer,
            amd_person_s=self.amd_person,
            amd_machine_s=self.amd_machine,
            talk=self.talk,
            wrap_up=self.wrap_up,
            machine_answer_time=self.machine_answer_time,
        )


def draw(rng: random.Random, d: LogNormal) -> float:
    s2 = math.log(1.0 + d.cv * d.cv)
    x = rng.lognormvariate(math.log(d.mean) - s2 / 2.0, math.sqrt(s2))
    return min(d.high, max(d.low, x))


@dataclass
class RunResult:
    volunteers: int
    hours: float
    contacts: int = 0
    calls: int = 0
    live_answers: int = 0
    abandons: int = 0
    talk_s: float = 0.0
    waits: list[float] = field(default_factory=list)
    answer_times: list[float] = field(default_factory=list)
    """When each live answer came (seconds into the shift)."""
    abandon_times: list[float] = field(default_factory=list)

    def worst_window(self, minutes: float = 30.0, step_s: float = 60.0) -> float:
        """The highest abandon rate over any `minutes`-long window of the shift (windows
        starting every `step_s`), as a fraction."""
        span, worst, start = minutes * 60.0, 0.0, 0.0
        answers, abandons = sorted(self.answer_times), sorted(self.abandon_times)
        while start + span <= self.hours * 3600.0 + 1e-9:
            live = bisect_left(answers, start + span) - bisect_left(answers, start)
            lost = bisect_left(abandons, start + span) - bisect_left(abandons, start)
            worst = max(worst, lost / live if live else 0.0)
            start += step_s
        return worst

    @property
    def contacts_per_hour(self) -> float:
        return self.contacts / (self.volunteers * self.hours)

    @property
    def occupancy(self) -> float:
        return self.talk_s / (self.volunteers * self.hours * 3600.0)

    @property
    def abandon_rate(self) -> float:
        return self.abandons / self.live_answers if self.live_answers else 0.0


# Event kinds, in tie-break order at equal times.
END, ANSWER, VERDICT, CHECK, FREE, TICK = range(6)


class Campaign:
    def __init__(self, policy: Pacing, p: Params, n: int, hours: float, seed: int) -> None:
        self.policy, self.p, self.horizon = policy, p, hours * 3600.0
        self.rng = random.Random(seed)
        self.out = RunResult(n, hours)
        self.events: list[tuple[float, int, int, int]] = []
        self.seq = 0
        self.ready: deque[tuple[int, float]] = deque((v, 0.0) for v in range(n))
        self.talking: dict[int, float] = {}
        self.wrapping: dict[int, float] = {}
        self.ringing: dict[int, float] = {}
        self.in_amd: dict[int, float] = {}
        self.waiting: deque[tuple[int, float]] = deque()
        self.abandoned: set[int] = set()
        self.next_call = 0
        self.kinds: dict[int, int] = {}
        self.rang: deque[bool] = deque(maxlen=LEARN_WINDOW)
        """Calls that rang through, as the engine learns them: True for a person."""
        self.rang_people = 0
        self.decisions: list[int] = []
        """How many calls each decision placed, in order."""

    def push(self, t: float, kind: int, ref: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (t, kind, self.seq, ref))

    def run(self) -> RunResult:
        self.push(0.0, TICK, 0)
        while self.events:
            t, kind, _, ref = heapq.heappop(self.events)
            if t >= self.horizon:
                break
            if kind == TICK:
                self.decide(t)
                self.push(t + 1.0, TICK, 0)
            elif kind == ANSWER:
                del self.ringing[ref]
                self.in_amd[ref] = t
                self.answered(t, ref)
            elif kind == VERDICT:
                del self.in_amd[ref]
                self.person(t, ref)
            elif kind == END:
                self.ringing.pop(ref, None)
                self.in_amd.pop(ref, None)
                call_kind = self.kinds.pop(ref, FAILING)
                self.ended(t, ref, call_kind)
                self.learn(call_kind)
            elif kind == CHECK:
                if any(c == ref for c, _ in self.waiting):
                    self.waiting = deque((c, w) for c, w in self.waiting if c != ref)
                    self.out.abandons += 1
                    self.out.abandon_times.append(t)
            elif kind == FREE:
                self.volunteer_free(t, ref)
        return self.out

    def state(self, t: float) -> PacingState:
        since = t - HALF_HOUR_S
        return PacingState(
            ready_volunteers=len(self.ready),
            in_flight=len(self.ringing) + len(self.in_amd),
            connecting=len(self.waiting),
            voters_available=10**9,
            now=t,
            talking_elapsed=tuple(t - s for s in self.talking.values()),
            wrap_up_elapsed=tuple(t - s for s in self.wrapping.values()),
            ringing_elapsed=tuple(t - s for s in self.ringing.values()),
            amd_elapsed=tuple(t - s for s in self.in_amd.values()),
            live_answers=self.out.live_answers,
            abandons=self.out.abandons,
            contact_rate_high=contact_rate_ceiling(self.rang_people, len(self.rang)),
            window_live_answers=self.out.live_answers - bisect_left(self.out.answer_times, since),
            window_abandons=self.out.abandons - bisect_left(self.out.abandon_times, since),
        )

    def learn(self, kind: int) -> None:
        """A call's outcome is known (a person at the verdict, others at the end)."""
        if kind == FAILING:
            return
        person = kind == PERSON
        if len(self.rang) == LEARN_WINDOW:
            self.rang_people -= self.rang[0]
        self.rang.append(person)
        self.rang_people += person

    # What the dialer's store would record (bench/pacing/learning_sim.py keeps it).
    def placed(self, t: float, call: int) -> None:
        """A call was placed."""

    def answered(self, t: float, call: int) -> None:
        """A person or a machine answered the call; AMD starts."""

    def verdict(self, t: float, call: int) -> None:
        """AMD said HUMAN: the call looks for a volunteer."""

    def ended(self, t: float, call: int, kind: int) -> None:
        """A call that no volunteer took ended (a machine, a ring-out, a failure)."""

    def talked(self, t: float, since: float) -> None:
        """A volunteer's call, connected at `since`, ended."""

    def wrapped_up(self, t: float, since: float) -> None:
        """A volunteer saved a result, having started the wrap-up at `since`."""

    def decide(self, t: float) -> None:
        placed = self.policy.calls_to_place(self.state(t))
        self.decisions.append(placed)
        for _ in range(placed):
            self.place(t)

    def place(self, t: float) -> None:
        p, rng = self.p, self.rng
        call = self.next_call
        self.next_call += 1
        self.out.calls += 1
        self.ringing[call] = t
        self.placed(t, call)
        u, contact_rate = rng.random(), p.rate_at(t)
        if u < contact_rate + p.machine_rate:
            person = u < contact_rate
            law = p.answer_time if person else (p.machine_answer_time or p.answer_time)
            answer = t + draw(rng, law)
            self.push(answer, ANSWER, call)
            if person:
                self.kinds[call] = PERSON
                self.push(answer + rng.uniform(*p.amd_person), VERDICT, call)
            else:
                self.kinds[call] = MACHINE
                self.push(answer + rng.uniform(*p.amd_machine), END, call)
            return
        u = rng.random()
        self.kinds[call] = NO_ANSWER if u < p.no_answer else FAILING
        if u < p.no_answer:
            self.push(t + p.ring_out_s, END, call)
        elif u < p.no_answer + p.busy:
            self.push(t + rng.uniform(2.0, 5.0), END, call)
        else:
            self.push(t + rng.uniform(1.0, 3.0), END, call)

    def person(self, t: float, call: int) -> None:
        self.out.live_answers += 1
        self.out.answer_times.append(t)
        self.kinds.pop(call, None)
        self.verdict(t, call)
        self.learn(PERSON)
        if self.ready:
            volunteer, since = self.ready.popleft()
            self.connect(t, volunteer, since)
        else:
            self.waiting.append((call, t))
            self.push(t + ABANDON_AFTER_S, CHECK, call)

    def connect(self, t: float, volunteer: int, since: float) -> None:
        self.out.contacts += 1
        self.out.waits.append(t - since)
        talk = draw(self.rng, self.p.talk)
        self.out.talk_s += min(talk, self.horizon - t)
        self.talking[volunteer] = t
        self.push(t + talk, FREE, volunteer)

    def volunteer_free(self, t: float, volunteer: int) -> None:
        if volunteer in self.talking:
            self.talked(t, self.talking.pop(volunteer))
            self.wrapping[volunteer] = t
            self.push(t + draw(self.rng, self.p.wrap_up), FREE, volunteer)
            return
        self.wrapped_up(t, self.wrapping.pop(volunteer))
        if self.waiting:
            self.waiting.popleft()
            self.connect(t, volunteer, t)
            return
        self.ready.append((volunteer, t))
        self.decide(t)


def simulate(policy: Pacing, p: Params, volunteers: int, hours: float, seed: int) -> RunResult:
    return Campaign(policy, p, volunteers, hours, seed).run()


def simulate_manual(p: Params, volunteers: int, hours: float, seed: int) -> RunResult:
    """Each volunteer dials by hand (~10 s) and listens through rings and greetings."""
    rng = random.Random(seed)
    out = RunResult(volunteers, hours)
    horizon = hours * 3600.0
    for _ in range(volunteers):
        t, since = 0.0, 0.0
        while t < horizon:
            out.calls += 1
            t += MANUAL_DIAL_S
            u, contact_rate = rng.random(), p.rate_at(t)
            if u < contact_rate:
                t += draw(rng, p.answer_time)
                if t >= horizon:
                    break
                out.live_answers += 1
                out.contacts += 1
                out.waits.append(t - since)
                talk = draw(rng, p.talk)
                out.talk_s += min(talk, horizon - t)
                t += talk + draw(rng, p.wrap_up)
                since = t
            elif u < contact_rate + p.machine_rate:
                t += draw(rng, p.answer_time) + MANUAL_MACHINE_LISTEN_S + MANUAL_NO_CONTACT_NOTE_S
            elif rng.random() < p.no_answer:
                t += p.ring_out_s + MANUAL_NO_CONTACT_NOTE_S
            else:
                t += rng.uniform(2.0, 5.0) + MANUAL_NO_CONTACT_NOTE_S
    return out


def simulate_oracle(p: Params, volunteers: int, hours: float, seed: int) -> RunResult:
    """An upper bound: only calls a person will answer, each answered the moment a
    volunteer frees up, so nobody waits and nobody is abandoned."""
    rng = random.Random(seed)
    out = RunResult(volunteers, hours)
    horizon = hours * 3600.0
    for _ in range(volunteers):
        t = 0.0
        while t < horizon:
            out.calls += 1
            out.live_answers += 1
            out.contacts += 1
            out.waits.append(0.0)
            talk = draw(rng, p.talk)
            out.talk_s += min(talk, horizon - t)
            t += talk + draw(rng, p.wrap_up)
    return out
