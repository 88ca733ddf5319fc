from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.calls.retry import after_attempt
from engine.models import CallOutcome as O
from engine.models import VoterStatus

NOW = datetime(2024, 10, 1, 18, 0, tzinfo=UTC)


def attempt(
    outcome: O, made: int = 1, max_attempts: int = 3, retry_minutes: int = 60
) -> tuple[VoterStatus, datetime | None]:
    return after_attempt(outcome, made, max_attempts, retry_minutes, NOW)


def test_contact_is_done() -> None:
    assert attempt(O.CONTACT) == (VoterStatus.DONE, None)


def test_unallocated_number_is_done() -> None:
    assert attempt(O.UNALLOCATED) == (VoterStatus.DONE, None)


@pytest.mark.parametrize(
    "outcome",
    [O.NO_ANSWER, O.MACHINE, O.VOICEMAIL_LEFT, O.HUNG_UP_DURING_AMD, O.ABANDONED, O.REJECTED],
)
def test_not_reached_retries_after_retry_minutes(outcome: O) -> None:
    assert attempt(outcome) == (VoterStatus.RETRY, NOW + timedelta(minutes=60))


def test_busy_retries_within_fifteen_minutes() -> None:
    assert attempt(O.BUSY) == (VoterStatus.RETRY, NOW + timedelta(minutes=15))


def test_busy_keeps_a_shorter_retry_interval() -> None:
    assert attempt(O.BUSY, retry_minutes=10) == (VoterStatus.RETRY, NOW + timedelta(minutes=10))


@pytest.mark.parametrize("outcome", [O.CONGESTION, O.FAILED])
def test_network_trouble_retries_in_five_minutes(outcome: O) -> None:
    assert attempt(outcome) == (VoterStatus.RETRY, NOW + timedelta(minutes=5))


@pytest.mark.parametrize(
    "outcome", [O.BUSY, O.NO_ANSWER, O.MACHINE, O.ABANDONED, O.CONGESTION, O.REJECTED]
)
def test_out_of_attempts_is_done(outcome: O) -> None:
    assert attempt(outcome, made=3, max_attempts=3) == (VoterStatus.DONE, None)


def test_failed_retries_even_at_the_attempt_limit() -> None:
    """A failure is our fault (trunk down, restart), so it does not use up the voter's tries."""
    status, when = attempt(O.FAILED, made=3, max_attempts=3)
    assert status is VoterStatus.RETRY
    assert when == NOW + timedelta(minutes=5)
