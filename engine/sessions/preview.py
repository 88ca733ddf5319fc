"""Preview dialing, the volunteer's side: Call, Skip and Cancel on the voter's card, and giving
the voter back. The telephony side (engine/calls/preview.py) claims the voters and places the
calls; the ledger (ledger.py) shows the card and tells the page when a call was not reached.
"""

from __future__ import annotations

from engine.errors import NotAllowed
from engine.models import Session, SessionState
from engine.sessions.control import CallControl, PreviewControl
from engine.sessions.ledger import SessionLedger
from engine.sessions.states import SessionEvent
from engine.store.base import Store


class PreviewActions:
    """Call, Skip and Cancel on the voter's card; VolunteerService hands these buttons here."""

    def __init__(self, store: Store, ledger: SessionLedger, calls: CallControl) -> None:
        self.store = store
        self.ledger = ledger
        self.calls = calls

    async def call_voter(self, session_id: int) -> Session:
        """The volunteer pressed Call on the voter's card. Raises NotAllowed when there is no
        card to call from, or (after giving the voter back) when the voter may not be called
        any more; AriError when the phone system refuses."""
        session = await self.store.get_session(session_id)
        if session.state != SessionState.PREVIEWING:
            raise NotAllowed(_NOT_PREVIEWING.get(session.state, _NO_CARD))
        problem = await self._preview().place_preview_call(session)
        if problem is not None:
            await self.ledger.transition(
                await self.store.get_session(session_id), SessionEvent.SKIPPED
            )
            self.calls.wake(session.campaign_id)
            raise NotAllowed(problem)
        return await self.store.get_session(session_id)

    async def skip_voter(self, session_id: int) -> Session:
        """Pass on the previewed voter without calling: the voter goes back to the list
        untouched (no attempt counted) and the next card follows."""
        session = await self.store.get_session(session_id)
        if session.state != SessionState.PREVIEWING:
            raise NotAllowed(
                "the call is already ringing: cancel it instead"
                if session.state == SessionState.RINGING
                else "there is no voter to skip"
            )
        session = await self.give_back(session)
        session = await self.ledger.transition(session, SessionEvent.SKIPPED)
        self.calls.wake(session.campaign_id)
        return session

    async def cancel_call(self, session_id: int) -> Session:
        """Hang up a preview call that is still ringing (counted as not answered)."""
        session = await self.store.get_session(session_id)
        if session.state != SessionState.RINGING:
            raise NotAllowed("there is no ringing call to cancel")
        session = await self.give_back(session)
        session = await self.ledger.transition(session, SessionEvent.CALL_CANCELLED)
        self.calls.wake(session.campaign_id)
        return session

    async def give_back(self, session: Session, *, strict: bool = True) -> Session:
        """Release the voter a previewing or ringing session holds; returns the session as
        it is now. If the voter answered meanwhile the session is talking: ``strict`` raises
        NotAllowed saying so, otherwise that call is hung up (log-out, a dropped phone)."""
        released = not isinstance(self.calls, PreviewControl) or await self.calls.release_preview(
            session
        )
        session = await self.store.get_session(session.id)
        if not released:
            if strict:
                raise NotAllowed("the voter has just answered: you're on the call now")
            await self.calls.end_call(session)
        return session

    def _preview(self) -> PreviewControl:
        if not isinstance(self.calls, PreviewControl):
            raise NotAllowed("calls cannot be placed now: the phone system is not running")
        return self.calls


_NO_CARD = "there is no voter to call: press Start calling (or Resume) to get the next card"
_NOT_PREVIEWING: dict[SessionState, str] = {
    SessionState.READY: "there is no voter to call yet: the next voter's card is on its way",
    SessionState.RINGING: "the call is already ringing: wait for an answer, or cancel it",
    SessionState.TALKING: "you're already on a call",
    SessionState.WRAP_UP: "save the last call's result first",
}
"""Why Call (or Skip) does not fit the session's state, in words."""
