"""What a volunteer typed is kept when the wrap-up ends without Next (issue 14 item 1).

The page saves the result as a draft on every change (ResultActions.save_draft). When the
wrap-up deadline passes, or the volunteer logs out during a call or its wrap-up, the draft
becomes TIMED_OUT and takes effect as a result sent with Next would: a chosen "Remove Number"
puts the voter on the do-not-call list (respecting the voter's request is the safe choice).
An empty draft, or none, leaves no result: the voter is handled by the call's outcome alone,
as for any call nobody entered a result for.

The volunteer is paused, not logged out, unless the campaign's logout_after_missed_wrapups
is reached. The words the page shows for it live here, in one place.
"""

from __future__ import annotations

import logging
from datetime import datetime

from engine.models import Campaign, Result, Session, TermCodeKind
from engine.store.base import Store

log = logging.getLogger(__name__)

MISSED_SAVED = (
    "Your answers for {name} were saved. You're on a break — press Ready for the next call."
)
MISSED_NOTHING = (
    "No result was chosen for {name} in time, so nothing was saved for that call. "
    "You're on a break — press Ready for the next call."
)
UNNAMED_VOTER = "this voter"


def deadline_outcome(missed_before: int, logout_after: int) -> tuple[int, bool]:
    """(missed wrap-ups in a row now, whether to log the volunteer out) when a deadline passes
    without a saved result; ``logout_after`` 0 never logs out."""
    missed = missed_before + 1
    return missed, logout_after > 0 and missed >= logout_after


def missed_message(first_name: str, saved: bool) -> str:
    """The sentence the volunteer reads after the wrap-up deadline paused them."""
    name = first_name.strip() or UNNAMED_VOTER
    return (MISSED_SAVED if saved else MISSED_NOTHING).format(name=name)


async def apply_result(
    store: Store, session: Session, campaign: Campaign, result: Result, now: datetime
) -> None:
    """What a saved (final or timed-out) result does besides being kept: "Remove Number"
    puts the number on the campaign's (or the global) do-not-call list."""
    kinds = {t.code: t.kind for t in campaign.term_codes}
    if kinds.get(result.term_code) != TermCodeKind.REMOVE:
        return
    attempt = await store.get_attempt(result.attempt_id)
    scope = None if campaign.dnc_scope == "global" else campaign.id
    await store.add_dnc(attempt.phone, scope, "Remove Number", f"session {session.id}", now)


async def keep_draft(
    store: Store, session: Session, attempt_id: int | None, now: datetime
) -> Result | None:
    """The wrap-up of the session's call ``attempt_id`` ended without Next: its draft becomes
    TIMED_OUT and takes effect. Returns the call's result (whatever its status), or None when
    nothing was entered."""
    if attempt_id is None:
        return None
    drafted = await store.result_for_attempt(attempt_id)
    result = await store.close_draft(attempt_id, now)
    if drafted is not None and result is not None and drafted.status != result.status:
        campaign = await store.get_campaign(session.campaign_id)
        await apply_result(store, session, campaign, result, now)
        log.info(
            "session %d: the draft result of attempt %d was kept at the end of wrap-up (%s)",
            session.id,
            attempt_id,
            result.term_code or "no term code",
        )
    return result
