"""Why nobody can be called now, and what happens next (pure: counts and the clock in, words
out). The dialer asks when it finds nobody to claim (engine/dialer/idle_watch.py); the
volunteer's page and the operator's dashboard show the answer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from engine.dialer.resume_times import local_clock, next_open
from engine.models import Campaign, VoterStatus
from engine.store.base import VoterTally


class IdleReason(StrEnum):
    """Why nobody can be dialed now, most hopeful first."""

    OUTSIDE_HOURS = "outside calling hours"
    WAITING_FOR_RETRY = "waiting for retry"
    BEING_CALLED = "being called"
    DO_NOT_CALL = "do not call"
    FINISHED = "finished"
    NO_VOTERS = "no voters"
    CAMPAIGN_PAUSED = "campaign paused"


COUNTED = ("callable_now", "outside_hours", "waiting_for_retry", "being_called", "do_not_call")
"""The voter counts every answer carries, with ``finished``."""


@dataclass(frozen=True)
class Availability:
    """Whether anyone can be called now; when nobody can, why (``reason``), when calling
    resumes (``resumes_at``, None: it does not by itself) and one message for people."""

    reason: IdleReason | None
    counts: dict[str, int]
    resumes_at: datetime | None
    message: str

    @property
    def idle(self) -> bool:
        return self.reason is not None

    def view(self) -> dict[str, Any]:
        """The JSON shape of the session view's and the stats' ``availability`` field."""
        return {
            "idle": self.idle,
            "reason": None if self.reason is None else str(self.reason),
            "message": self.message,
            "resumes_at": None if self.resumes_at is None else self.resumes_at.isoformat(),
            "counts": dict(self.counts),
        }


def explain(
    campaign: Campaign,
    tallies: Iterable[VoterTally],
    zone: ZoneInfo,
    now: datetime,
    open_zones: set[str],
) -> Availability:
    """Sort the campaign's voters by why they can or cannot be called at ``now`` (voters in
    ``open_zones`` are within calling hours) and say what comes next, with times on the clock
    of ``zone`` (the campaign's zone)."""
    counts: Counter[str] = Counter({name: 0 for name in (*COUNTED, "finished")})
    opens: list[datetime] = []
    retries: list[datetime] = []
    for tally in tallies:
        kind = _kind(tally, open_zones)
        counts[kind] += tally.count
        if kind == "outside_hours":
            opens += _some(next_open(tally.zone, *_hours(campaign), now))
        elif kind == "waiting_for_retry" and tally.waiting_until is not None:
            retries += _some(next_open(tally.zone, *_hours(campaign), tally.waiting_until))
    plain = {k: int(v) for k, v in counts.items()}
    if not campaign.active:
        return Availability(IdleReason.CAMPAIGN_PAUSED, plain, None, _PAUSED)
    if counts["callable_now"]:
        return Availability(None, plain, None, "")
    if not sum(counts.values()):
        return Availability(IdleReason.NO_VOTERS, plain, None, _NO_VOTERS)
    if counts["outside_hours"] or counts["waiting_for_retry"]:
        return _later(
            campaign, plain, zone, now, min(opens, default=None), min(retries, default=None)
        )
    if counts["being_called"]:
        return Availability(IdleReason.BEING_CALLED, plain, None, _BEING_CALLED)
    if counts["do_not_call"] and not counts["finished"]:
        return Availability(IdleReason.DO_NOT_CALL, plain, None, _ALL_DNC)
    return Availability(IdleReason.FINISHED, plain, None, _FINISHED)


_PAUSED = "This campaign is paused by its organizers: no calls are placed until they resume it."
_NO_VOTERS = "This campaign has no voters yet: calls start once the organizers upload a list."
_BEING_CALLED = (
    "The last voters on this list are being called now; after them, everyone has been called."
)
_ALL_DNC = "Every voter left is on the do-not-call list: there is nobody more to call."
_FINISHED = "Everyone on this list has been called."


def _kind(tally: VoterTally, open_zones: set[str]) -> str:
    if tally.status == VoterStatus.IN_FLIGHT:
        return "being_called"
    if tally.status == VoterStatus.DNC or tally.on_dnc:
        return "do_not_call"
    if tally.status == VoterStatus.DONE or tally.exhausted:
        return "finished"
    if tally.waiting_until is not None:
        return "waiting_for_retry"
    return "callable_now" if tally.zone in open_zones else "outside_hours"


def _later(
    campaign: Campaign,
    counts: dict[str, int],
    zone: ZoneInfo,
    now: datetime,
    opens: datetime | None,
    retry: datetime | None,
) -> Availability:
    """Voters wait for calling hours or a retry time: the main reason (more voters) and the
    soonest time either lets someone be called."""
    hours, waiting = counts["outside_hours"], counts["waiting_for_retry"]
    reason = IdleReason.OUTSIDE_HOURS if hours >= waiting else IdleReason.WAITING_FOR_RETRY
    mixed = bool(hours and waiting)
    if reason == IdleReason.OUTSIDE_HOURS:
        lead = (
            "Most voters left are outside calling hours now; the others wait for their next try."
            if mixed
            else "Every voter left is outside calling hours now."
        )
    else:
        lead = (
            "Most voters left were called recently and wait for their next try; the others "
            "are outside calling hours."
            if mixed
            else "Every voter left was called recently and waits for their next try."
        )
    soonest = min((t for t in (opens, retry) if t is not None), default=None)
    if soonest is None:
        return Availability(reason, counts, None, lead)
    when = clock_in(soonest, zone, now)
    if soonest == opens:
        start = local_clock(campaign.calling_hours_start)
        follow = f"Calling resumes at {start} in the voters' time zones (the first at {when})."
    else:
        follow = f"The next voters can be called again at {when}."
    return Availability(reason, counts, soonest, f"{lead} {follow}")


def clock_in(moment: datetime, zone: ZoneInfo, now: datetime) -> str:
    """``moment`` on the clock of ``zone``, named: "3:40 p.m. EST", "9:00 a.m. EST tomorrow",
    "9:00 a.m. CET on Friday"."""
    local = moment.astimezone(zone)
    text = f"{local_clock(local.strftime('%H:%M'))} {local.strftime('%Z')}"
    days = (local.date() - now.astimezone(zone).date()).days
    if days == 1:
        return f"{text} tomorrow"
    if days > 1:
        return f"{text} on {local.strftime('%A')}"
    return text


def _hours(campaign: Campaign) -> tuple[str, str]:
    return campaign.calling_hours_start, campaign.calling_hours_end


def _some(moment: datetime | None) -> list[datetime]:
    return [] if moment is None else [moment]
