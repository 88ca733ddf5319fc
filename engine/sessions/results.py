"""Call results, the volunteer's side: saving the result of an answered call, and correcting
it afterwards. VolunteerService hands these requests here.

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
    Session,
    SessionState,
    TermCodeKind,
)
from engine.scripts.survey import visible_answers
from engine.security import field_limits
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
        return result

    async def edit_result(
        self, session_id: int, term_code: str, answers: Mapping[str, Any], notes: str
    ) -> Result:
        """Correct the saved result of the session's last call (until the next call comes);
        the session's state does not change. Raises NotAllowed when there is no saved
        result or the call is still in wrap-up, InvalidInput for an unknown term code."""
        session = await self.store.get_session(session_id)
        if session.attempt_id is None or session.state == SessionState.LOGGED_OUT:
            raise NotAllowed("there is no saved result to change: save the call's result first")
        if await self.store.result_for_attempt(session.attempt_id) is None:
            raise NotAllowed("there is no saved result to change: save the call's result first")
        if session.state == SessionState.WRAP_UP:
            raise NotAllowed("this call is still in wrap-up: save its result to take the next call")
        return await self._save(session, term_code, answers, notes)

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
        codes = {t.code: t for t in campaign.term_codes}
        if term_code not in codes:
            raise InvalidInput(f"unknown term code '{term_code}': use one of {sorted(codes)}")
        result = await self.store.save_result(
            session.attempt_id,
            session.id,
            term_code,
            visible_answers(campaign.survey, answers),
            notes.strip(),
            self.clock(),
        )
        if codes[term_code].kind == TermCodeKind.REMOVE:
            await self._remove_number(session, campaign)
        return result

    async def _remove_number(self, session: Session, campaign: Campaign) -> None:
        assert session.attempt_id is not None
        attempt = await self.store.get_attempt(session.attempt_id)
        scope = None if campaign.dnc_scope == "global" else campaign.id
        await self.store.add_dnc(
            attempt.phone, scope, "Remove Number", f"session {session.id}", self.clock()
        )

    async def _after_wrap_up(self, session: Session, then: AfterResult | None) -> None:
        if then == AfterResult.LOGOUT:
            await self.ledger.close(await self.store.get_session(session.id), EndReason.LOGOUT)
            return
        self.ledger.cancel_deadline(session.id)
        event = (
            SessionEvent.RESULT_SAVED_PAUSE
            if then == AfterResult.PAUSE
            else SessionEvent.RESULT_SAVED_READY
        )
        session = await self.ledger.transition(session, event, wrapup_deadline=None)
        if session.state == SessionState.READY:
            self.waker.wake(session.campaign_id)
