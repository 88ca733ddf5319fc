"""Recent "no answer" endings, kept a little while: when the trunk is found down, those that
ended since it was last seen working met a silent network, not a voter who did not pick up,
and their voters get the attempt back."""

from __future__ import annotations

import collections
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from engine.clock import utc_now
from engine.models import CallOutcome, Campaign, VoterStatus
from engine.store.base import Store

log = logging.getLogger(__name__)

Settle = Callable[[Store, Campaign, int, CallOutcome], Awaitable[VoterStatus]]


@dataclass(frozen=True)
class NoAnswer:
    ended_at: datetime
    attempt_id: int
    voter_id: int
    campaign: Campaign
    channel_id: str


class RecentNoAnswers:
    def __init__(self, store: Store, settle: Settle, keep: int = 1000) -> None:
        self.store = store
        self.settle = settle
        """How a voter is released after an outcome (calls.settle_voter)."""
        self.recent: collections.deque[NoAnswer] = collections.deque(maxlen=keep)

    def add(self, ending: NoAnswer) -> None:
        self.recent.append(ending)

    def record(
        self,
        outcome: CallOutcome,
        attempt_id: int,
        voter_id: int,
        campaign: Campaign,
        channel_id: str,
    ) -> None:
        """Keep a call's ending if it was "no answer" (automatic and preview calls alike)."""
        if outcome == CallOutcome.NO_ANSWER:
            self.add(NoAnswer(utc_now(), attempt_id, voter_id, campaign, channel_id))

    async def give_back_since(self, since: datetime) -> None:
        """Make every "no answer" that ended at or after `since` our failure: the attempt
        is `failed` and the voter, unless done meanwhile for another reason (DNC), is
        retried with the attempt given back."""
        endings = [e for e in self.recent if e.ended_at >= since]
        self.recent.clear()
        for ending in endings:
            voter = await self.store.get_voter(ending.voter_id)
            if voter.status not in (VoterStatus.DONE, VoterStatus.RETRY):
                continue
            await self.store.update_attempt(ending.attempt_id, outcome=CallOutcome.FAILED)
            status = await self.settle(
                self.store, ending.campaign, ending.voter_id, CallOutcome.FAILED
            )
            log.warning(
                "call %s: ended unanswered as the trunk went down: our failure; voter %d now %s",
                ending.channel_id,
                ending.voter_id,
                status,
            )
