"""The outcome mix of a campaign's calls, from a time window of the calls it PLACED.

Each placed call is classified as soon as its kind is known: at its AMD verdict (a person
still talking is a person already) or at its end, whichever comes first. A call is counted
once it is old enough that its kind must be known (`ring_out_s + VERDICT_MARGIN_S` after it
was placed); a younger call is censored: left out, whatever is known about it so far.
People are classified later than fast failures and earlier than machines and ring-outs, so
counting young calls, or only ended ones plus those on the line, reads the mix wrong. Counting
only calls old enough has no such bias, at the cost of learning ~40 s late.

The window is measured in dialing time: when a campaign starts placing calls again after a
pause (the next shift, or a break), what it learned is kept and slides out as new calls come
in, so a new shift starts from the last one's mix (a warm start). When the last two minutes'
contact rate stands far from the window's, the window restarts from them (a changed answer
rate is followed in minutes, not in the window's length; a small team's last two minutes hold
too few calls to tell, so its last 200 calls are compared instead). No I/O here.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.models import Attempt, CallOutcome, CallState

WINDOW_S = 1800.0
"""Dialing seconds of placed calls the mix is learned from: long enough for ~2,000 calls at
10 volunteers, short enough to follow a changing answer rate within minutes."""
VERDICT_MARGIN_S = 10.0
"""Beyond the ring-out, the longest a call's kind may stay unknown (AMD, a late hang-up)."""
MIN_CALLS = 2000
"""The window keeps at least this many counted calls, however long ago they were placed: a
small team places ~1,300 calls in 30 minutes at 10 volunteers, a 0.8-point error on 10 %."""
PAUSE_S = 300.0
"""No call placed for this long is a pause: the window's clock stops until dialing resumes."""
RECENT_S = 120.0
"""The last minutes of counted calls (at least RECENT_CALLS of them), compared with the whole
window to notice a change."""
SHIFT_Z = 4.0
"""A contact rate in the recent calls this many standard errors from the window's is a change
in the list's answer rate (an evening starting, another part of the list): the window restarts
from the recent calls. By chance alone that happens at most about once in five 8-hour
shifts (a 1-in-16,000 chance at each of 2,880 refreshes)."""
RECENT_CALLS = 200
"""When the last RECENT_S hold fewer calls than this (a team of 10 places about 90 in two
minutes, fewer once more people answer), the recent calls are the last this many instead. A
small team's change is then noticed within minutes too: with two minutes alone (and at least
100 calls in them to restart on) a team of 10 never restarted on a step from 10 % to 20 %
contacts, and its window took the 45 minutes of its 2,000 calls to follow it, over-dialing
meanwhile (bench/pacing, docs/performance.md). Noise alone restarted none of the simulated
shifts of 1 to 10 volunteers in fixed worlds."""

PERSON, MACHINE, NO_ANSWER, FAILED = "person", "machine", "no answer", "failed"
KINDS = (PERSON, MACHINE, NO_ANSWER, FAILED)

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
_PERSON_STATES = (CallState.CONNECTING, CallState.CONNECTED, CallState.ABANDONING)
"""A call in one of these states with an AMD verdict is a person still on the line."""
_MACHINE_STATES = (CallState.LEAVING_VOICEMAIL,)
_MACHINE_VERDICTS = ("MACHINE", "HANGUP")


IGNORE = "ignore"
"""A call pacing learns nothing from: a preview call (a volunteer placed it) or one never placed."""


def kind_of(call: Attempt) -> str | None:
    """What pacing counts the call as; None while it is not known yet, IGNORE for calls
    pacing learns nothing from (preview calls: answered without AMD)."""
    if call.ended_at is not None or call.state == CallState.ENDED:
        kind = _KIND.get(call.outcome) if call.outcome else None
        if kind is None or (kind == PERSON and not call.amd_verdict):
            return IGNORE
        return kind
    if call.amd_verdict and call.state in _PERSON_STATES:
        return PERSON
    if call.amd_verdict in _MACHINE_VERDICTS or call.state in _MACHINE_STATES:
        return MACHINE
    return None


def placed_s(call: Attempt) -> float | None:
    """When the call was placed (epoch seconds), or claimed if it never was."""
    placed = call.originated_at or call.claimed_at
    return None if placed is None else placed.timestamp()


def seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


@dataclass
class Young:
    """A placed call not yet old enough to be counted."""

    placed_s: float
    kind: str | None = None


@dataclass
class PlacedCalls:
    """Placed calls of the last `window_s` dialing seconds (at least the last `min_calls`),
    by kind."""

    window_s: float = WINDOW_S
    min_calls: int = MIN_CALLS
    young: dict[int, Young] = field(default_factory=dict)
    """Calls too recent to count, by attempt id (ascending)."""
    counted: deque[tuple[float, str]] = field(default_factory=deque)
    """(placed, kind) of the calls counted, oldest first."""
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    last_id: int = 0
    """The highest attempt id seen."""
    newest_s: float | None = None
    """When the newest call seen was placed (dialing clock: pauses are cut out)."""
    shift_s: float = 0.0
    """Seconds cut out of the dialing clock so far: placed times are kept minus this."""

    def read_from(self) -> int:
        """The attempt id the next read starts at: the oldest call not classified yet, else
        the one after the last seen (0: nothing seen yet)."""
        for call_id, call in self.young.items():
            if call.kind is None:
                return call_id
        return self.last_id + 1 if self.last_id else 0

    def see(self, call: Attempt) -> str | None:
        """Take in one placed call as it is now (in progress or ended). Returns its kind if it
        was classified just now (so its answer time etc. can be learned once), else None."""
        known = self.young.get(call.id)
        if known is None and call.id <= self.last_id:
            return None  # counted (or censored) already
        when = placed_s(call)
        if when is None:
            return None
        if known is None:
            self.last_id = call.id
            when -= self.shift_s
            if self.newest_s is not None and when > self.newest_s + PAUSE_S:
                self.shift_s += when - self.newest_s - 1.0
                when = self.newest_s + 1.0
            self.newest_s = when if self.newest_s is None else max(self.newest_s, when)
            known = self.young[call.id] = Young(when)
        if known.kind is not None:
            return None
        known.kind = kind_of(call)
        return known.kind if known.kind != IGNORE else None

    def advance(self, now: datetime, ring_out_s: float) -> None:
        """Count the calls now old enough (their kind must be known: one that is not yet is
        left out), and drop those that left the window."""
        mature = now.timestamp() - self.shift_s - ring_out_s - VERDICT_MARGIN_S
        for call_id in [i for i, c in self.young.items() if c.placed_s <= mature]:
            call = self.young.pop(call_id)
            if call.kind is not None and call.kind != IGNORE:
                self.counted.append((call.placed_s, call.kind))
                self.counts[call.kind] += 1
        if self.newest_s is not None:
            oldest = self.newest_s - self.window_s
            while len(self.counted) > self.min_calls and self.counted[0][0] < oldest:
                self.counts[self.counted.popleft()[1]] -= 1
        self._restart_on_a_change()

    def _restart_on_a_change(self) -> None:
        """Keep only the recent calls (the last RECENT_S of counted calls, or the last
        RECENT_CALLS if those are fewer) if their contact rate is SHIFT_Z standard errors away
        from the window's: the window would take its whole length to follow, over-dialing
        (the rate went up) or idling volunteers (it went down) meanwhile."""
        n = len(self.counted)
        if n < 2 * RECENT_CALLS:
            return
        since = self.counted[-1][0] - RECENT_S
        recent = people = 0
        for placed, kind in reversed(self.counted):
            if placed < since and recent >= RECENT_CALLS:
                break
            recent += 1
            people += kind == PERSON
        since = min(since, self.counted[-recent][0])
        if recent * 2 > n:
            return
        rate = self.counts[PERSON] / n
        spread = math.sqrt(max(rate * (1.0 - rate), 0.25 / n) / recent)
        if abs(people / recent - rate) <= SHIFT_Z * spread:
            return
        while self.counted and self.counted[0][0] < since:
            self.counts[self.counted.popleft()[1]] -= 1

    def young_people(self) -> int:
        """People among the calls too recent to count (a ceiling counts them)."""
        return sum(1 for c in self.young.values() if c.kind == PERSON)

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_s": self.window_s,
            "min_calls": self.min_calls,
            "young": [[i, c.placed_s, c.kind] for i, c in self.young.items()],
            "counted": [[t, k] for t, k in self.counted],
            "last_id": self.last_id,
            "newest_s": self.newest_s,
            "shift_s": self.shift_s,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> PlacedCalls:
        """Raises KeyError, TypeError or ValueError for data to_dict did not write."""
        calls = cls(
            window_s=float(raw["window_s"]),
            min_calls=int(raw["min_calls"]),
            last_id=int(raw["last_id"]),
            newest_s=None if raw["newest_s"] is None else float(raw["newest_s"]),
            shift_s=float(raw["shift_s"]),
        )
        for call_id, when, kind in raw["young"]:
            calls.young[int(call_id)] = Young(float(when), None if kind is None else str(kind))
        for when, kind in raw["counted"]:
            calls.add_counted(float(when), str(kind))
        return calls

    def add_counted(self, when: float, kind: str) -> None:
        """Count one call placed at `when` (dialing clock).

        Raises ValueError for an unknown kind."""
        if kind not in self.counts:
            raise ValueError(f"unknown kind of call {kind!r}")
        self.counted.append((when, kind))
        self.counts[kind] += 1
        self.newest_s = when if self.newest_s is None else max(self.newest_s, when)
