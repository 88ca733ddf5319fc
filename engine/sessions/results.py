"""Call results, the volunteer's side: saving the result of an answered call as it is typed
(a draft), sending it with Next, and correcting it afterwards. VolunteerService hands these
requests here. A draft has no effect until it is sent, or kept at the deadline (drafts.py).

A result is only taken for a call a person answered (the attempt was bridged to this
volunteer) while the session is talking or in wrap-up: a result for a voter who was only
previewed, or whose phone never rang, would put an outcome (or, with "Remove Number", a
do-not-call entry) on a voter nobody spoke to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from engine.errors import InvalidInput, NotAllowed
from engine.models import (
    AfterResult,
    Campaign,
    EndReason,
    Result,
    ResultStatus,
    Session,
    SessionState,
)
from engine.scripts.survey import visible_answers
from engine.security import field_limits
from engine.sessions.drafts import apply_result
from engine.sessions.ledger import SessionLedger, Waker
from engine.sessions.states import SessionEvent
from engine.store.base import Store

_NO_ANSWERED_CALL = {
    SessionState.PREVIEWING: "this voter has not been called yet: press Call, and enter "
    "the result once the call is over",
    SessionState.RINGING: "the call has not been answered yet: wait for the voter to answer, "
    "or cancel the call",
}
_NO_CALL = "there is no answered call to enter a result for"
_WRAP_UP_OVER = (
    "this call's wrap-up is over, so its answers are no longer saved as you type: "
    "change its result with PUT /api/session/result"
)
_EARLIER_CALL = "these answers are for an earlier call: they were not saved"
_NOT_SAVED = "there is no saved result to change: save the call's result first"


class ResultActions:
    """Saving and correcting call results; VolunteerService hands these requests here."""

    def __init__(
        self,
        store: Store,
        ledger: SessionLedger,
        waker: Waker,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.waker = waker
        self.clock = clock

    async def submit_result(
        self,
        session_id: int,
        term_code: str,
        answers: Mapping[str, Any],
        notes: str,
        then: AfterResult | None = None,
    ) -> Result:
        """Save the result of the call the session is on or has just ended (talking or
        wrap-up; the call must have been answered and put through to this volunteer).

        ``then``: 'ready', 'pause' or 'logout' after a result in wrap-up. Raises NotAllowed
        in any other state or for a call nobody answered, InvalidInput for an unknown term
        code.
        """
        session = await self.store.get_session(session_id)
        if session.state not in (SessionState.TALKING, SessionState.WRAP_UP):
            raise NotAllowed(_NO_ANSWERED_CALL.get(session.state, _NO_CALL))
        await self._answered_attempt(session)
        result = await self._save(session, term_code, answers, notes)
        if session.state == SessionState.WRAP_UP:
            await self._after_wrap_up(session, then)
        elif session.missed_wrapups:
            await self.store.update_session(session.id, missed_wrapups=0)
        return result

    async def edit_result(
        self, session_id: int, term_code: str, answers: Mapping[str, Any], notes: str
    ) -> Result:
        """Correct the saved result of the session's last call (until the next call comes);
        the session's state does not change. Raises NotAllowed when there is no saved
        result or the call is still in wrap-up, InvalidInput for an unknown term code."""
        session = await self.store.get_session(session_id)
        if session.attempt_id is None or session.state == SessionState.LOGGED_OUT:
            raise NotAllowed(_NOT_SAVED)
        saved = await self.store.result_for_attempt(session.attempt_id)
        if saved is None or saved.status == ResultStatus.DRAFT:
            raise NotAllowed(_NOT_SAVED)
        if session.state == SessionState.WRAP_UP:
            raise NotAllowed("this call is still in wrap-up: save its result to take the next call")
        result = await self._save(session, term_code, answers, notes)
        if session.missed_wrapups:
            await self.store.update_session(session.id, missed_wrapups=0)
        return result

    async def save_draft(
        self,
        session_id: int,
        attempt_id: int,
        term_code: str,
        answers: Mapping[str, Any],
        notes: str,
    ) -> Result:
        """Save what the volunteer has chosen and typed so far for the call ``attempt_id``
        (talking or wrap-up; ``term_code`` may be '' when none is chosen yet). Nothing else
        happens until it is sent with Next or kept at the deadline. Raises NotAllowed after
        the wrap-up or for another call, InvalidInput for an unknown term code, Conflict when
        the result was already sent."""
        session = await self.store.get_session(session_id)
        if session.state not in (SessionState.TALKING, SessionState.WRAP_UP):
            if session.attempt_id == attempt_id and session.state != SessionState.LOGGED_OUT:
                raise NotAllowed(_WRAP_UP_OVER)
            raise NotAllowed(_NO_ANSWERED_CALL.get(session.state, _NO_CALL))
        if session.attempt_id != attempt_id:
            raise NotAllowed(_EARLIER_CALL)
        await self._answered_attempt(session)
        field_limits.answers(answers)
        if term_code:
            self._term_code(await self.store.get_campaign(session.campaign_id), term_code)
        return await self.store.save_draft(
            attempt_id, session.id, term_code, dict(answers), notes.strip(), self.clock()
        )

    async def _answered_attempt(self, session: Session) -> None:
        if session.attempt_id is None:
            raise NotAllowed(_NO_CALL)
        attempt = await self.store.get_attempt(session.attempt_id)
        if attempt.bridged_at is None or attempt.session_id != session.id:
            raise NotAllowed(_NO_CALL)

    async def _save(
        self, session: Session, term_code: str, answers: Mapping[str, Any], notes: str
    ) -> Result:
        assert session.attempt_id is not None
        field_limits.answers(answers)
        campaign = await self.store.get_campaign(session.campaign_id)
        self._term_code(campaign, term_code)
        result = await self.store.save_result(
            session.attempt_id,
            session.id,
            term_code,
            visible_answers(campaign.survey, answers),
            notes.strip(),
            self.clock(),
        )
        await apply_result(self.store, session, campaign, result, self.clock())
        return result

    @staticmethod
    def _term_code(campaign: Campaign, term_code: str) -> None:
        """Raises InvalidInput unless ``term_code`` is one of the campaign's."""
        codes = sorted(t.code for t in campaign.term_codes)
        if term_code not in codes:
            raise InvalidInput(f"unknown term code '{term_code}': use one of {codes}")

    async def _after_wrap_up(self, session: Session, then: AfterResult | None) -> None:
        if then == AfterResult.LOGOUT:
            await self.ledger.close(await self.store.get_session(session.id), EndReason.LOGOUT)
            return
        self.ledger.cancel_deadline(session.id)
        session = await self.store.get_session(session.id)
        if session.state == SessionState.WRAP_UP:
            event = (
                SessionEvent.RESULT_SAVED_PAUSE
                if then == AfterResult.PAUSE
                else SessionEvent.RESULT_SAVED_READY
            )
        elif session.state == SessionState.PAUSED and then != AfterResult.PAUSE:
            event = SessionEvent.RESUME  # the deadline passed while the result was on its way
        else:
            await self.store.update_session(session.id, missed_wrapups=0, wrapup_deadline=None)
            return
        session = await self.ledger.transition(
            session, event, wrapup_deadline=None, missed_wrapups=0
        )
        if session.state == SessionState.READY:
            self.waker.wake(session.campaign_id)
