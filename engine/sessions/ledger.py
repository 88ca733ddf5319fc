"""The session ledger: every session state change that the phone and the calls cause.

The telephony side (engine/telephony/, engine/calls/) tells the ledger when a volunteer's
phone connects or drops and when a call is offered, connects or ends; the ledger applies the
session state table (states.py), persists the change and publishes it to the session's
WebSocket. It also owns the wrap-up deadline: when it passes without Next, what the volunteer
typed is kept (drafts.py) and they are paused, their phone still on the line; after the
campaign's logout_after_missed_wrapups misses in a row they are logged out instead, their
phone leg told why and released (PhoneRelease). A session paused by the deadline keeps its
wrapup_deadline until it resumes: that is how its page knows to say what happened.

Built before the telephony side, which receives it; the web-facing VolunteerService is built
after both and uses both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from engine.errors import SessionMoved
from engine.models import (
    Attempt,
    AudioMode,
    Campaign,
    EndReason,
    ResultStatus,
    Session,
    SessionState,
    Voter,
)
from engine.notifier import Notifier, PreviewEndedEvent, SessionStateEvent, VoterCardHeader
from engine.scripts.render import render_script
from engine.sessions.drafts import deadline_outcome, keep_draft, missed_message
from engine.sessions.states import (
    LIVE_STATES,
    PREVIEW_STATES,
    SessionEvent,
    describe,
    next_session_state,
)
from engine.store.base import Store
from engine.voters.phone_display import format_phone

log = logging.getLogger(__name__)

_TRANSITION_TRIES = 5
"""Reads of a session that moved under a transition before it gives up (SessionMoved)."""


class Waker(Protocol):
    def wake(self, campaign_id: int) -> None:
        """A volunteer became ready: the campaign's dialer should look again now."""


class PhoneRelease(Protocol):
    async def release_session(self, session: Session, reason: EndReason) -> None:
        """The session is over: tell the phone leg why (reason: 'timeout' or 'logout'), hang
        it up and destroy the session's bridge."""


class SessionLedger:
    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        waker: Waker,
        release: PhoneRelease,
        *,
        clock: Callable[[], datetime],
        region: str = "US",
    ) -> None:
        self.store = store
        self.region = region
        """Where voters' numbers are shown in national format (engine.default_region)."""
        self.notifier = notifier
        self.waker = waker
        self.release = release
        self.clock = clock
        self._deadlines: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # --- state changes --------------------------------------------------------------------
    async def transition(
        self, session: Session, event: SessionEvent, *, note: str | None = None, **fields: Any
    ) -> Session:
        """Apply ``event`` (IllegalTransition if it does not fit), persist, publish (``note``:
        a sentence shown instead of the state's usual message).

        The change is written only if the session is still as ``session`` was read: when
        something else moved it meanwhile (the volunteer's Next racing their phone dropping,
        or another engine), it is read again and ``event`` applied to what it is now, never
        written over it — a saved wrap-up must not come back."""
        for tries_left in reversed(range(_TRANSITION_TRIES)):
            phone = fields.get("channel_id", session.channel_id) is not None
            state = next_session_state(session.state, event, phone=phone)
            try:
                updated = await self.store.update_session(
                    session.id, computed_from=session, state=state, **fields
                )
                break
            except SessionMoved:
                if not tries_left:
                    raise
                session = await self.store.get_session(session.id)
        if state != session.state:
            log.info("session %d: %s -[%s]-> %s", session.id, session.state, event, state)
        self.publish_state(updated, note)
        return updated

    def publish_state(self, session: Session, note: str | None = None) -> None:
        event: SessionStateEvent = {
            "type": "session",
            "session_id": session.id,
            "state": str(session.state),
            "message": note
            or describe(
                session.state,
                phone=session.channel_id is not None,
                computer=session.audio_mode == AudioMode.BROWSER,
            ),
            "phone": session.channel_id is not None,
            "wrapup_deadline": session.wrapup_deadline.isoformat()
            if session.wrapup_deadline
            else None,
        }
        if note is not None:
            event["wrapup_missed"] = note
        self.notifier.publish(session.campaign_id, session.id, event)

    async def close(self, session: Session, reason: EndReason) -> Session:
        """End the session (reason 'timeout' after too many missed wrap-up deadlines, else
        'logout'): keep a draft result of its call, persist it and release its phone leg.
        The caller has already let go of any call."""
        self.cancel_deadline(session.id)
        if session.state in (SessionState.TALKING, SessionState.WRAP_UP):
            await keep_draft(self.store, session, session.attempt_id, self.clock())
        session = await self.transition(
            session, SessionEvent.LOG_OUT, ended_at=self.clock(), end_reason=reason
        )
        await self.release.release_session(session, reason)
        return session

    # --- events from the phone ------------------------------------------------------------
    async def phone_connected(self, session: Session, channel_id: str, bridge_id: str) -> Session:
        """The phone joined the session's bridge, in whatever state the session is now (a
        volunteer who was taking calls is READY again at once)."""
        session = await self.store.get_session(session.id)
        session = await self.transition(
            session, SessionEvent.PHONE_CONNECTED, channel_id=channel_id, bridge_id=bridge_id
        )
        if session.state == SessionState.READY:
            self.waker.wake(session.campaign_id)
        return session

    async def phone_dropped(self, session: Session) -> Session:
        """The phone leg is gone. The telephony side has already given back a previewed
        voter (and hung up a voter who answered meanwhile)."""
        session = await self.store.get_session(session.id)
        if session.state not in LIVE_STATES:
            return session
        if session.state == SessionState.TALKING:
            session = await self.call_ended(session)
        return await self.transition(session, SessionEvent.PHONE_DROPPED, channel_id=None)

    async def ready_sessions(self, campaign_id: int) -> list[Session]:
        """READY sessions of the campaign, longest waiting first."""
        return [
            s
            for s in await self.store.live_sessions(campaign_id)
            if s.state == SessionState.READY and s.channel_id
        ]

    # --- events from the calls ------------------------------------------------------------
    async def call_connected(
        self, session: Session, attempt: Attempt, voter: Voter, campaign: Campaign
    ) -> Session:
        session = await self.transition(
            session, SessionEvent.CALL_CONNECTED, attempt_id=attempt.id, wrapup_deadline=None
        )
        card = await self.card(session, attempt, voter, campaign)
        self.notifier.publish_card(campaign.id, {"type": "voter", "session_id": session.id}, card)
        return session

    async def call_ended(self, session: Session) -> Session:
        session = await self.store.get_session(session.id)
        if session.state != SessionState.TALKING:
            return session
        campaign = await self.store.get_campaign(session.campaign_id)
        deadline = self.clock() + timedelta(seconds=campaign.wrapup_seconds)
        session = await self.transition(session, SessionEvent.CALL_ENDED, wrapup_deadline=deadline)
        self.schedule_deadline(session)
        return session

    async def preview_offered(
        self, session: Session, attempt: Attempt, voter: Voter, campaign: Campaign
    ) -> Session:
        """Show the volunteer a voter to call (the telephony side claimed it): the session
        goes to PREVIEWING and the card is pushed with ``"preview": true`` (not called yet)."""
        session = await self.transition(
            session, SessionEvent.PREVIEW_OFFERED, attempt_id=attempt.id, wrapup_deadline=None
        )
        card = await self.card(session, attempt, voter, campaign)
        header: VoterCardHeader = {"type": "voter", "session_id": session.id, "preview": True}
        self.notifier.publish_card(campaign.id, header, card)
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
        self.waker.wake(session.campaign_id)
        return session

    async def card(
        self, session: Session, attempt: Attempt, voter: Voter, campaign: Campaign
    ) -> dict[str, Any]:
        """The voter's card as the volunteer's page shows it."""
        volunteer = await self.store.get_volunteer(session.volunteer_id)
        return {
            "attempt_id": attempt.id,
            "voter": {
                "id": voter.id,
                **voter.fields(),
                "phone_display": format_phone(voter.phone, self.region),
            },
            "script": render_script(campaign.script, voter.fields(), volunteer.name.split()[0]),
        }

    # --- wrap-up --------------------------------------------------------------------------
    def schedule_deadline(self, session: Session) -> None:
        assert session.wrapup_deadline is not None
        self.cancel_deadline(session.id)
        delay = max(0.0, (session.wrapup_deadline - self.clock()).total_seconds())
        loop = asyncio.get_running_loop()
        self._deadlines[session.id] = loop.call_later(delay, self._spawn_deadline, session.id)

    def cancel_deadline(self, session_id: int) -> None:
        handle = self._deadlines.pop(session_id, None)
        if handle is not None:
            handle.cancel()

    def _spawn_deadline(self, session_id: int) -> None:
        task = asyncio.ensure_future(self._deadline_passed(session_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deadline_passed(self, session_id: int) -> None:
        self._deadlines.pop(session_id, None)
        session = await self.store.get_session(session_id)
        if session.state != SessionState.WRAP_UP:
            return
        result = await keep_draft(self.store, session, session.attempt_id, self.clock())
        missed, log_out = session.missed_wrapups, False
        if result is None or result.status != ResultStatus.FINAL:
            campaign = await self.store.get_campaign(session.campaign_id)
            missed, log_out = deadline_outcome(missed, campaign.logout_after_missed_wrapups)
        if log_out:
            log.info(
                "session %d: %d wrap-up deadlines missed in a row; logging out", session_id, missed
            )
            session = await self.store.update_session(session_id, missed_wrapups=missed)
            await self.close(session, EndReason.TIMEOUT)
            return
        log.info(
            "session %d: no Next before the wrap-up deadline (%d in a row); pausing",
            session_id,
            missed,
        )
        await self.transition(
            session,
            SessionEvent.WRAPUP_TIMEOUT,
            note=await self.missed_note(session, result is not None),
            missed_wrapups=missed,
        )

    async def missed_note(self, session: Session, saved: bool) -> str:
        """What the page says after the deadline paused the session (see drafts.py)."""
        first_name = ""
        if session.attempt_id is not None:
            attempt = await self.store.get_attempt(session.attempt_id)
            first_name = (await self.store.get_voter(attempt.voter_id)).first_name
        return missed_message(first_name, saved)

    async def recover(self, node: str | None = None) -> None:
        """After a restart: re-arm wrap-up deadlines (expired ones pass now); keep the drafts
        of calls whose wrap-up is over; a session left ready without a phone (by an older
        version) waits for its phone. ``node``: only the sessions on that node (an engine
        taking it over from another)."""
        for session in await self.store.live_sessions():
            if node is not None and session.node != node:
                continue
            if session.state == SessionState.READY and session.channel_id is None:
                await self.transition(session, SessionEvent.PHONE_DROPPED)
            elif session.state == SessionState.WRAP_UP and session.wrapup_deadline:
                self.schedule_deadline(session)
            elif session.state in PREVIEW_STATES:
                # The previewed voter's attempt was closed with the other open attempts.
                await self.transition(session, SessionEvent.PREVIEW_RELEASED)
        for draft in await self.store.open_drafts():
            owner = await self.store.get_session(draft.session_id)
            if node is not None and owner.node != node:
                continue
            in_call = owner.state in (SessionState.TALKING, SessionState.WRAP_UP)
            if not (in_call and owner.attempt_id == draft.attempt_id):
                await keep_draft(self.store, owner, draft.attempt_id, self.clock())
