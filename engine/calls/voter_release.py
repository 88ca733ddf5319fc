"""How the end of an attempt releases its voter: done, or to be called again (calls/retry.py)."""

from __future__ import annotations

from engine.calls.retry import after_attempt
from engine.clock import utc_now
from engine.models import CallOutcome, Campaign, VoterStatus
from engine.store.base import Store


async def settle_voter(
    store: Store, campaign: Campaign, voter_id: int, outcome: CallOutcome
) -> VoterStatus:
    """After an attempt ended with `outcome`: the voter is done or will be called again
    (engine/calls/retry.py); an attempt that failed on our side is not counted. Returns the
    voter's new status."""
    voter = await store.get_voter(voter_id)
    status, retry_at = after_attempt(
        outcome, voter.attempts, campaign.max_attempts, campaign.retry_minutes, utc_now()
    )
    await store.release_voter(
        voter_id, status, retry_at, refund_attempt=outcome == CallOutcome.FAILED
    )
    return status
