"""Preview dialing, the volunteer's side: the voter's card, Call, Skip, Cancel, and what
happens when a preview call is not answered. VolunteerService inherits these actions; the
telephony side (engine/calls/preview.py) claims the voters and places the calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from engine.errors import NotAllowed
from engine.models import Attempt, Campaign, Session, SessionState, Voter
from engine.notifier import Notifier, PreviewEndedEvent
from engine.sessions.states import SessionEvent
from engine.store.base import Store

if TYPE_CHECKING:
    from engine.sessions.service import CallControl


@runtime_checkable
class PreviewControl(Protocol):
    """What preview dialing asks of the telephony side (engine/calls/preview.py); a
    CallControl without it (no PBX attached) cannot place preview calls."""

    async def place_preview_call(self, session: Session) -> str | None:
        """Call the voter the session is previewing; the session becomes RINGING. Returns
        None, or a sentence saying why the voter was given back instead (now on the
        do-not-call list, outside calling hours). Raises NotAllowed when there is no card."""

    async def release_preview(self, session: Session) -> bool:
        """Give back the voter the session holds: untouched while previewing, or hang up the
        ringing call (an unanswered attempt). False if the voter already answered."""


class PreviewActions:
    """Mixed into VolunteerService, which provides the attributes and methods below."""

    store: Store
    notifier: Notifier
    calls: CallControl

    if TYPE_CHECKING:

        async def transition(
            self, session: Session, event: SessionEvent, **fields: Any
        ) -> Session: ...

        async def card(
            self, session: Session, attempt: Attempt, voter: Voter, campaign: Campaign
        ) -> dict[str, Any]: ...

    async def preview_offered(
        self, session: Session, attempt: Attempt, voter: Voter, campaign: Campaign
    ) -> Session:
        """Show the volunteer a voter to call (the telephony side claimed it): the session
        goes to PREVIEWING and the card is pushed with ``"preview": true`` (not called yet)."""
        session = await self.transition(
            session, SessionEvent.PREVIEW_OFFERED, attempt_id=attempt.id, wrapup_deadline=None
        )
        card = await self.card(session, attempt, voter, campaign)
        event = {"type": "voter", "session_id": session.id, "preview": True, **card}
        self.notifier.publish(campaign.id, session.id, event)
        return session

    async def call_voter(self, session_id: int) -> Session:
        """The volunteer pressed Call on the voter's card. Raises NotAllowed when there is no
        card to call from, or (after giving the voter back) when the voter may not be called
        any more; AriError when the phone system refuses."""
        session = await self.store.get_session(session_id)
        if session.state != SessionState.PREVIEWING:
            raise NotAllowed(_NOT_PREVIEWING.get(session.state, _NO_CARD))
        problem = await self._preview().place_preview_call(session)
        if problem is not None:
            await self.transition(await self.store.get_session(session_id), SessionEvent.SKIPPED)
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
        session = await self._give_back(session)
        session = await self.transition(session, SessionEvent.SKIPPED)
        self.calls.wake(session.campaign_id)
        return session

    async def cancel_call(self, session_id: int) -> Session:
        """Hang up a preview call that is still ringing (counted as not answered)."""
        session = await self.store.get_session(session_id)
        if session.state != SessionState.RINGING:
            raise NotAllowed("there is no ringing call to cancel")
        session = await self._give_back(session)
        session = await self.transition(session, SessionEvent.CALL_CANCELLED)
        self.calls.wake(session.campaign_id)
        return session

    async def preview_not_reached(
        self, session: Session, attempt_id: int, outcome: str, message: str
    ) -> Session:
        """The ringing preview call ended unanswered: back to READY (the next card follows),
        and the page is told why in words."""
        session = await self.store.get_session(session.id)
        if session.state != SessionState.RINGING or session.attempt_id != attempt_id:
            return session
        session = await self.transition(session, SessionEvent.NOT_REACHED)
        event: PreviewEndedEvent = {
            "type": "preview_ended",
            "session_id": session.id,
            "attempt_id": attempt_id,
            "outcome": outcome,
            "message": message,
        }
        self.notifier.publish(session.campaign_id, session.id, event)
        self.calls.wake(session.campaign_id)
        return session

    async def _give_back(self, session: Session, *, strict: bool = True) -> Session:
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
