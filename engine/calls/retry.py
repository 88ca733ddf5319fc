"""What happens to a voter after a call attempt: done, or call again later."""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.models import CallOutcome, VoterStatus

_O = CallOutcome

FINAL_OUTCOMES = frozenset({_O.CONTACT, _O.UNALLOCATED})
"""Reached, or a dead number: never call again."""

BUSY_MAX_MINUTES = 15
"""A busy line is retried sooner: the voter is there, just on another call."""

NETWORK_RETRY_MINUTES = 5
"""Congestion and failures are network (or our) trouble, not the voter: retry soon."""


def retry_delay(outcome: CallOutcome, retry_minutes: int) -> timedelta:
    """How long to wait before calling again after this outcome."""
    if outcome is _O.BUSY:
        return timedelta(minutes=min(retry_minutes, BUSY_MAX_MINUTES))
    if outcome in (_O.CONGESTION, _O.FAILED):
        return timedelta(minutes=NETWORK_RETRY_MINUTES)
    return timedelta(minutes=retry_minutes)


def after_attempt(
    outcome: CallOutcome,
    attempts_made: int,
    max_attempts: int,
    retry_minutes: int,
    now: datetime,
) -> tuple[VoterStatus, datetime | None]:
    """The voter's status and next attempt time after an attempt ended with `outcome`.

    `attempts_made` includes the attempt that just ended. CONTACT and UNALLOCATED are DONE.
    Every other outcome is RETRY unless the voter is out of attempts, then DONE — except
    FAILED, which is our fault (originate refused, trunk down, restart), so it is RETRY even
    at the limit. Callers should therefore not count FAILED attempts in `attempts_made`, or
    a later no-answer may end the voter early.
    """
    if outcome in FINAL_OUTCOMES:
        return VoterStatus.DONE, None
    if outcome is not _O.FAILED and attempts_made >= max_attempts:
        return VoterStatus.DONE, None
    return VoterStatus.RETRY, now + retry_delay(outcome, retry_minutes)
