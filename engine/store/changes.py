"""The fields a store update may change, typed: Store.update_attempt and Store.update_session
take them as keyword arguments (``**changes: Unpack[AttemptChanges]``), so mypy checks each
name and value at the call. Fields that never change after creation (ids, the campaign, the
voter, the phone, the PIN and token of a session) are not listed."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from engine.errors import SessionMoved
from engine.models import CallOutcome, CallState, EndReason, Session, SessionState


class AttemptChanges(TypedDict, total=False):
    state: CallState
    session_id: int | None
    channel_id: str | None
    claimed_at: datetime | None
    originated_at: datetime | None
    answered_at: datetime | None
    amd_verdict: str
    amd_cause: str
    amd_at: datetime | None
    bridged_at: datetime | None
    ended_at: datetime | None
    hangup_cause: int | None
    outcome: CallOutcome | None
    heard_machine: bool


class SessionChanges(TypedDict, total=False):
    state: SessionState
    state_since: datetime
    channel_id: str | None
    bridge_id: str | None
    attempt_id: int | None
    wrapup_deadline: datetime | None
    ended_at: datetime | None
    end_reason: EndReason
    missed_wrapups: int
    node: str


def moved_on(current: Session, computed_from: Session) -> None:
    """Raises SessionMoved if ``current`` (the stored session, read under the write's lock)
    is no longer in the state and on the phone leg of ``computed_from`` (the session a change
    was worked out from): writing the change then would undo what happened meanwhile."""
    if (current.state, current.channel_id) != (computed_from.state, computed_from.channel_id):
        raise SessionMoved(
            f"session {current.id} is now {current.state} (phone leg {current.channel_id}), "
            f"not {computed_from.state} (phone leg {computed_from.channel_id})"
        )
