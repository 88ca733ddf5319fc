"""Taking a call's steps through the state table, and ending a call: declared once for
automatic and preview calls.

Each step applies `next_state`, logs the transition once and persists it with the attempt.
A step that ends the call with an outcome also releases the voter by the retry rules, keeps a
"no answer" for the trunk watch (no_answers.py) and tells the campaign's dashboards.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from engine.calls.no_answers import RecentNoAnswers
from engine.calls.ports import NO_COUNTS, CallCounts, PublishCall
from engine.calls.states import CallEvent, CallPhase, Moved, next_state
from engine.calls.voter_release import settle_voter
from engine.clock import utc_now
from engine.models import CallOutcome, Campaign, Voter
from engine.store.base import Store

log = logging.getLogger(__name__)


class Call(Protocol):
    """What a step needs of a call (LiveCall, PreviewCall)."""

    attempt_id: int
    campaign: Campaign
    voter: Voter
    phase: CallPhase

    @property
    def label(self) -> str:
        """How logs name the call."""
        ...


class CallSteps:
    def __init__(
        self,
        store: Store,
        no_answers: RecentNoAnswers,
        publish_call: PublishCall,
        counts: CallCounts = NO_COUNTS,
    ) -> None:
        self.store = store
        self.no_answers = no_answers
        self.publish_call = publish_call
        self.counts = counts

    async def step(
        self,
        call: Call,
        event: CallEvent,
        *,
        cause: int | None = None,
        **fields: Any,
    ) -> Moved:
        """Apply `event` to `call` and persist it with `fields`. Ending with an outcome
        settles the voter (see the module). `cause`: the hang-up cause recorded when it
        ends.

        Raises IllegalTransition if the event does not apply to the call's phase."""
        moved = next_state(call.phase, event)
        log.info("call %s: %s -[%s]-> %s", call.label, call.phase, event, moved.phase)
        stored = call.phase.stored
        call.phase = moved.phase
        if moved.phase == CallPhase.ENDED:
            fields["ended_at"] = utc_now()
            if moved.outcome is not None:
                fields |= {"hangup_cause": cause, "outcome": moved.outcome}
        if fields or moved.phase.stored != stored:
            await self.store.update_attempt(call.attempt_id, state=moved.phase.stored, **fields)
        if moved.phase == CallPhase.ENDED and moved.outcome is not None:
            await self._charge(call, moved.outcome, cause)
        return moved

    async def _charge(self, call: Call, outcome: CallOutcome, cause: int | None) -> None:
        self.counts.ended(outcome)
        status = await settle_voter(self.store, call.campaign, call.voter.id, outcome)
        self.no_answers.record(outcome, call.attempt_id, call.voter.id, call.campaign, call.label)
        log.info(
            "call %s: ended %s (cause %s); voter %d now %s",
            call.label,
            outcome,
            cause,
            call.voter.id,
            status,
        )
        self.publish_call(call.campaign.id, call.attempt_id, outcome)
