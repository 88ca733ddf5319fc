"""Results written straight through the store, for the results report's tests: a voter, a
call to them that a volunteer answered, and the result saved at a chosen time."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from engine.models import (
    AudioMode,
    CallOutcome,
    CallState,
    ResultStatus,
    VoterDetails,
    VoterStatus,
)
from engine.store.base import Store
from engine.store.sqlite.store import SqliteStore

SURVEY: list[dict[str, Any]] = [
    {
        "id": "support",
        "text": "Will you support Measure A?",
        "kind": "single",
        "options": [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}],
    },
    {
        "id": "issues",
        "text": "Which issues matter most?",
        "kind": "multiple",
        "options": [
            {"value": "schools", "label": "Schools"},
            {"value": "roads", "label": "Roads"},
            {"value": "parks", "label": "Parks"},
        ],
    },
    {"id": "comment", "text": "Anything else?", "kind": "text"},
]
"""A survey with a single-choice, a multiple-choice and a text question (the results
report's tests)."""


async def volunteer_session(store: Store, campaign_id: int, name: str, at: datetime) -> int:
    """A session of a volunteer called ``name`` (created once per name)."""
    email = name.lower().replace(" ", ".") + "@example.org"
    volunteer = await store.add_volunteer(name, email, "+12025550100")
    key = f"{email}-{at.isoformat()}"
    pin = f"{zlib.crc32(key.encode()):010d}"
    session = await store.create_session(
        volunteer.id,
        campaign_id,
        AudioMode.PHONE,
        pin,
        f"token-{key}",
        at,
    )
    return session.id


async def seed_result(
    store: Store,
    campaign_id: int,
    voter: VoterDetails,
    session_id: int,
    at: datetime,
    term_code: str,
    answers: Mapping[str, Any],
    notes: str = "",
    status: ResultStatus = ResultStatus.FINAL,
) -> int:
    """Add ``voter`` (its zone among the claimable ones), call them, save the result at
    ``at``; the result's id. The status is set in the database when not final (the wrap-up
    code owns how a draft or a timed-out result is made)."""
    await store.add_voters(campaign_id, [voter])
    [(claimed, attempt)] = await store.claim_voters(campaign_id, 1, at, {"", voter.timezone}, 99)
    await store.update_attempt(
        attempt.id,
        state=CallState.ENDED,
        session_id=session_id,
        answered_at=at - timedelta(seconds=90),
        bridged_at=at - timedelta(seconds=89),
        ended_at=at - timedelta(seconds=10),
        outcome=CallOutcome.CONTACT,
    )
    await store.release_voter(claimed.id, VoterStatus.DONE)
    result = await store.save_result(attempt.id, session_id, term_code, answers, notes, at)
    if status != ResultStatus.FINAL:
        assert isinstance(store, SqliteStore)
        sql = "UPDATE results SET status = ? WHERE id = ?"
        await store.worker.run(partial(store.db.execute, sql, (str(status), result.id)))
    return result.id
