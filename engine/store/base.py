"""The store interface. engine/store/sqlite/ implements it over SQLite (one machine, the
default) and engine/store/postgresql/ over PostgreSQL (several engines on one database);
engine/store/open.py opens the one `engine.database` names. Every method commits before it
returns.

Times are timezone-aware UTC datetimes. Methods raise engine.errors.NotFound for an unknown id
where they say so, and engine.errors.Conflict for a broken uniqueness rule.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, Unpack

from engine.models import (
    Attempt,
    AudioMode,
    CallOutcome,
    Campaign,
    DncEntry,
    Login,
    Operator,
    Result,
    Session,
    SessionState,
    Volunteer,
    Voter,
    VoterDetails,
    VoterStatus,
)
from engine.store.changes import AttemptChanges, SessionChanges
from engine.store.result_rows import ResultCounts, ResultFilter, ResultRecord

VoterInput = VoterDetails
"""A voter row as the importer produces it (engine.voters.csv_rows.VoterRow)."""


@dataclass(frozen=True)
class HourCount:
    """Ended attempts of one clock hour (UTC), for the dashboard."""

    hour: datetime
    attempts: int
    contacts: int


# --- issue 14 items 2 and 5 (LIVE): an empty shift explains itself; the per-volunteer view
@dataclass(frozen=True)
class VoterTally:
    """How many of a campaign's voters share a status, a zone and whether they are out of
    attempts, on the do-not-call list or waiting for a retry time (engine/dialer/availability.py
    turns these into the reason nobody can be called)."""

    status: VoterStatus
    zone: str
    exhausted: bool
    on_dnc: bool
    waiting_until: datetime | None
    """The soonest retry time of these voters when it is still ahead; None: not waiting."""
    count: int


@dataclass(frozen=True)
class ShiftRow:
    """A signed-in volunteer on the dashboard, with their results this session."""

    session_id: int
    name: str
    audio_mode: AudioMode
    state: SessionState
    state_since: datetime
    phone: bool
    results_by_code: dict[str, int]


class Store(Protocol):
    # --- campaigns ---------------------------------------------------------------------
    async def create_campaign(self, name: str, **settings: Any) -> Campaign:
        """Raises Conflict if a campaign of that name exists; settings are Campaign fields."""

    async def update_campaign(self, campaign_id: int, **settings: Any) -> Campaign:
        """Raises NotFound."""

    async def get_campaign(self, campaign_id: int) -> Campaign:
        """Raises NotFound."""

    async def campaign_by_name(self, name: str) -> Campaign | None:
        """Case-insensitive, trimmed."""

    async def list_campaigns(self) -> list[Campaign]: ...

    # --- voters ------------------------------------------------------------------------
    async def add_voters(self, campaign_id: int, rows: Iterable[VoterInput]) -> tuple[int, int]:
        """Insert rows in one transaction; a phone already in the campaign is merged (its blank
        fields filled, extra fields added, status kept). Returns (inserted, merged). Voters on
        the do-not-call list (campaign or global) get status DNC."""

    async def get_voter(self, voter_id: int) -> Voter:
        """Raises NotFound."""

    async def voter_counts(self, campaign_id: int) -> dict[VoterStatus, int]: ...
    async def claim_voters(
        self,
        campaign_id: int,
        count: int,
        now: datetime,
        timezones: Iterable[str],
        max_attempts: int,
        line_types: frozenset[str] | None = None,
        *,
        channel_name: Callable[[int], str] | None = None,
    ) -> list[tuple[Voter, Attempt]]:
        """Atomically pick up to ``count`` callable voters and mark them IN_FLIGHT, creating
        an Attempt (state CLAIMED, claimed_at=now) for each, with ``channel_name(its id)`` as
        its channel id when given (in the same transaction: a node's recovery then knows the
        claim even if the engine dies before dialing it). Callable: status PENDING or RETRY,
        next_attempt_at null or <= now, attempts < max_attempts, phone not on the campaign's
        or the global DNC list, timezone in ``timezones`` (the zones now within calling
        hours; '' stands for unknown) and, unless ``line_types`` is None, line_type in
        ``line_types`` (engine.voters.line_types: the automatic dialer and preview each claim their
        own; an empty set claims nobody). Oldest next_attempt_at first, then import order. The
        voter's ``attempts`` is incremented. Never returns a voter already IN_FLIGHT."""

    async def release_voter(
        self,
        voter_id: int,
        status: VoterStatus,
        next_attempt_at: datetime | None = None,
        *,
        refund_attempt: bool = False,
    ) -> None:
        """End a voter's flight: set its status (RETRY with next_attempt_at, DONE or DNC);
        ``refund_attempt`` gives back the attempt the claim counted (a failure of ours)."""

    # --- attempts ----------------------------------------------------------------------
    async def update_attempt(self, attempt_id: int, **changes: Unpack[AttemptChanges]) -> Attempt:
        """Set Attempt fields (state, channel_id, timestamps, outcome...). Raises NotFound."""

    async def get_attempt(self, attempt_id: int) -> Attempt:
        """Raises NotFound."""

    async def attempt_by_channel(self, channel_id: str) -> Attempt | None: ...
    async def open_attempts(self) -> list[Attempt]:
        """Attempts not ENDED (for recovery after a restart)."""

    async def list_attempts(self, campaign_id: int) -> list[Attempt]: ...

    # --- volunteers, logins, sessions ---------------------------------------------------
    async def add_volunteer(self, name: str, email: str, phone: str) -> Volunteer:
        """The same email (case-insensitive) returns the existing volunteer, unchanged."""

    async def get_volunteer(self, volunteer_id: int) -> Volunteer:
        """Raises NotFound."""

    async def add_login(self, login_id: str, volunteer_id: int, password_hash: str) -> Login:
        """Raises Conflict if login_id exists."""

    async def get_login(self, login_id: str) -> Login | None:
        """Case-insensitive."""

    async def use_login(self, login_id: str, when: datetime) -> None: ...
    async def create_session(
        self,
        volunteer_id: int,
        campaign_id: int,
        audio_mode: AudioMode,
        pin: str,
        token_hash: str,
        now: datetime,
    ) -> Session:
        """State WAITING_FOR_PHONE. Raises Conflict if ``pin`` belongs to a live session."""

    async def get_session(self, session_id: int) -> Session:
        """Raises NotFound."""

    async def session_by_token_hash(self, token_hash: str) -> Session | None: ...
    async def session_by_pin(self, pin: str) -> Session | None:
        """The most recent session with this PIN (live or ended)."""

    async def update_session(
        self,
        session_id: int,
        /,
        *,
        computed_from: Session | None = None,
        **changes: Unpack[SessionChanges],
    ) -> Session:
        """Set Session fields; setting ``state`` also sets state_since unless given. With
        ``computed_from`` (the session as read when the change was worked out), only if the
        session's state and phone leg are still that one's, else SessionMoved and nothing
        is written."""

    async def live_sessions(self, campaign_id: int | None = None) -> list[Session]:
        """Sessions not LOGGED_OUT, oldest state_since first."""

    async def pins_in_use(self) -> set[str]: ...

    # --- results -----------------------------------------------------------------------
    async def save_result(
        self,
        attempt_id: int,
        session_id: int,
        term_code: str,
        answers: Mapping[str, Any],
        notes: str,
        now: datetime,
    ) -> Result:
        """Create the attempt's result, or edit it (the previous version is kept in history)."""

    async def result_for_attempt(self, attempt_id: int) -> Result | None: ...
    async def result_history(self, result_id: int) -> list[dict[str, Any]]:
        """Earlier versions, oldest first."""

    def results(self, campaign_id: int) -> AsyncIterator[dict[str, Any]]:
        """Export rows: voter fields, attempt times and outcome, term code, answers, notes,
        volunteer name; one row per result."""

    # --- do not call -------------------------------------------------------------------
    async def add_dnc(
        self, phone: str, campaign_id: int | None, reason: str, by: str, now: datetime
    ) -> None:
        """Idempotent. Pending/retry voters with this phone (in that campaign, or all for the
        global list) become DNC."""

    async def add_dnc_many(
        self, phones: Sequence[str], campaign_id: int | None, reason: str, by: str, now: datetime
    ) -> int:
        """add_dnc for each phone, in one transaction; how many were not listed yet."""

    async def remove_dnc(self, phone: str, campaign_id: int | None) -> bool: ...
    async def is_dnc(self, phone: str, campaign_id: int) -> bool:
        """On the campaign's list or the global one."""

    async def list_dnc(self, campaign_id: int | None = None) -> list[DncEntry]: ...
    async def dnc_phones(self, campaign_id: int) -> set[str]:
        """Every phone on the campaign's list or the global one (for import)."""

    # --- operators and audit -------------------------------------------------------------
    async def add_operator(self, username: str, password_hash: str) -> Operator:
        """Raises Conflict if the username exists."""

    async def get_operator(self, username: str) -> Operator | None: ...
    async def count_operators(self) -> int:
        """How many operator accounts exist (none: `phonebank run` says how to add one)."""

    async def add_api_token(
        self, operator_id: int, token_hash: str, label: str, now: datetime | None = None
    ) -> None: ...
    async def operator_by_token_hash(
        self, token_hash: str, issued_after: datetime | None = None
    ) -> Operator | None:
        """The token's operator, if the token exists and was issued after ``issued_after``."""

    async def delete_api_tokens(
        self,
        *,
        token_hash: str | None = None,
        operator_id: int | None = None,
        issued_before: datetime | None = None,
    ) -> int:
        """Delete one token, an operator's tokens, or those issued before a time; how many."""

    async def remove_operator(self, username: str) -> tuple[Operator, int]:
        """Delete the operator and their tokens (how many). Raises NotFound."""

    async def audit(
        self, actor: str, action: str, detail: Mapping[str, Any], now: datetime
    ) -> None: ...
    async def audit_log(self, limit: int = 100) -> list[dict[str, Any]]: ...

    # --- statistics --------------------------------------------------------------------
    async def abandon_counts(self, campaign_id: int, since: datetime) -> tuple[int, int]:
        """(abandoned, live answers) since ``since``: live answers are automatic calls (with
        an AMD verdict) whose outcome is CONTACT or ABANDONED."""

    async def outcome_counts(self, campaign_id: int, since: datetime) -> dict[CallOutcome, int]: ...
    async def attempts_by_hour(self, campaign_id: int, since: datetime) -> list[HourCount]:
        """Ended attempts (and how many were contacts) per clock hour from ``since``, oldest
        first, hours without any left out; an attempt counts at ended_at, else claimed_at."""

    async def attempts_in_flight(self, campaign_id: int) -> int:
        """The campaign's attempts not ENDED."""

    # --- pacing --------------------------------------------------------------------------
    async def ended_attempts(
        self, campaign_id: int, ended_after: datetime | None, limit: int, after_id: int = 0
    ) -> list[Attempt]:
        """Attempts that ended after ``ended_after`` (all when None), or at that moment with
        an id above ``after_id``; earliest end first, then by id."""

    async def placed_attempts(
        self, campaign_id: int, from_id: int, since: datetime, limit: int
    ) -> list[Attempt]:
        """The campaign's attempts from id ``from_id`` on, ended or not, in id order, from the
        first one placed since ``since`` at the earliest."""

    async def wrap_ups(
        self, campaign_id: int, after_result_id: int, limit: int
    ) -> list[tuple[int, float]]:
        """(result id, seconds from the call's end to its first saved result), in id order."""

    async def load_pacing(self, campaign_id: int) -> str | None:
        """The campaign's learned pacing data (JSON text), None if nothing was saved."""

    async def save_pacing(self, campaign_id: int, learned: str, now: datetime) -> None: ...

    async def close(self) -> None: ...

    # --- issue 14 items 2 and 5 (LIVE) --------------------------------------------------
    async def voter_tallies(
        self, campaign_id: int, now: datetime, max_attempts: int
    ) -> list[VoterTally]:
        """The campaign's voters grouped for the reason they can or cannot be called at
        ``now`` (grouped in the database: fit for 100,000 voters)."""

    async def volunteers_on_shift(self, campaign_id: int) -> list[ShiftRow]:
        """The campaign's signed-in volunteers by name, with their results this session."""

    async def voter_zones(self, campaign_id: int) -> dict[str, int]:
        """How many of the campaign's voters are in each zone ('' unknown)."""

    async def calls_placed(self, campaign_id: int, since: datetime) -> int:
        """Calls the phone system accepted (originated) since ``since``; claims that never
        reached it are not counted."""

    # --- result drafts and the wrap-up deadline (issue 14 item 1) ------------------------
    async def save_draft(
        self,
        attempt_id: int,
        session_id: int,
        term_code: str,
        answers: Mapping[str, Any],
        notes: str,
        now: datetime,
    ) -> Result:
        """Create or update in place the attempt's DRAFT result (term_code may be '').
        Raises Conflict when its result was already saved (FINAL or TIMED_OUT)."""

    async def close_draft(self, attempt_id: int, now: datetime) -> Result | None:
        """The wrap-up ended without Next: a draft becomes TIMED_OUT, an empty one is
        deleted. The attempt's result afterwards, or None."""

    async def open_drafts(self) -> list[Result]:
        """Every DRAFT result, oldest first."""

    # --- the results report (issue 14, results that report; engine/store/result_rows.py) --
    async def result_page(
        self, campaign_id: int, where: ResultFilter, offset: int, limit: int
    ) -> list[ResultRecord]:
        """The results ``where`` matches, latest first, from ``offset``, at most ``limit``."""

    def result_records(
        self, campaign_id: int, where: ResultFilter | None = None
    ) -> AsyncIterator[ResultRecord]:
        """The results ``where`` matches (all when None), oldest first, a page at a time."""

    async def result_extra_keys(self, campaign_id: int) -> list[str]:
        """Every extra voter-list field of the voters with a result, in first-seen order."""

    async def result_answer_keys(self, campaign_id: int) -> list[str]:
        """Every question id the campaign's results answer, in first-seen order."""

    async def result_volunteers(self, campaign_id: int) -> list[tuple[int, str]]:
        """(id, name) of the volunteers with a result in the campaign, by name."""

    async def result_counts(
        self, campaign_id: int, where: ResultFilter, latest: int
    ) -> ResultCounts:
        """Counts over the results ``where`` matches, with each text question's ``latest``
        newest answers (ResultCounts)."""


__all__ = ["SessionState", "Store", "VoterInput"]
