"""What the results report reads from the store (issue 14, results that report): which
results (ResultFilter), one result with its voter and call (ResultRecord), and the counts the
tallies are made of (ResultCounts). Store methods in engine/store/base.py take and answer
these; engine/reports/ turns them into the page and the export."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.models import ResultStatus

COUNTED = (ResultStatus.FINAL, ResultStatus.TIMED_OUT)
"""Results the tallies count: a draft is a call still in wrap-up, its answers may change."""


@dataclass(frozen=True)
class ResultFilter:
    """Which of a campaign's results: each condition is left out when empty."""

    since: datetime | None = None
    """The result was first saved at or after this time."""
    until: datetime | None = None
    """... and before this time."""
    volunteer_id: int | None = None
    term_code: str = ""
    outcome: str = ""

    def conditions(self, campaign_id: int) -> list[tuple[str, Any]]:
        """The SQL conditions on results ``r`` (and their attempts ``a``), each with its one
        placeholder written ``{}`` for the store to fill in, and its value (times as given:
        each store encodes them its own way)."""
        wanted: list[tuple[str, Any]] = [
            ("r.campaign_id = {}", campaign_id),
            ("r.created_at >= {}", self.since),
            ("r.created_at < {}", self.until),
            ("r.volunteer_id = {}", self.volunteer_id),
            ("r.term_code = {}", self.term_code or None),
            ("a.outcome = {}", self.outcome or None),
        ]
        return [(condition, value) for condition, value in wanted if value is not None]


@dataclass(frozen=True)
class ResultRecord:
    """One result with its voter, its call and its volunteer."""

    id: int
    voter: dict[str, Any]
    """The voter card fields (VOTER_CARD_FIELDS), in their order."""
    extra: dict[str, str]
    """The voter list's own extra columns."""
    outcome: str | None
    answered_at: datetime | None
    bridged_at: datetime | None
    ended_at: datetime | None
    term_code: str
    answers: dict[str, Any]
    notes: str
    status: ResultStatus
    volunteer_id: int
    volunteer: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class TextAnswer:
    """One recent answer to a text question."""

    text: str
    volunteer: str
    at: datetime


@dataclass(frozen=True)
class ResultCounts:
    """Counts over the results a filter matches. Only COUNTED results are in the term codes,
    respondents and choices; ``statuses`` counts them all."""

    statuses: dict[str, int] = field(default_factory=dict)
    term_codes: dict[str, int] = field(default_factory=dict)
    respondents: dict[str, int] = field(default_factory=dict)
    """Question id -> results that answered it (a non-empty answer)."""
    choices: dict[tuple[str, str], int] = field(default_factory=dict)
    """(question id, answer value) -> results that gave it (each choice of a multiple one)."""
    latest_text: dict[str, list[TextAnswer]] = field(default_factory=dict)
    """Question id -> its latest non-empty text answers, newest first."""
