"""Volunteer sessions: sign-up, sign-in, ready/pause, results, wrap-up deadline, log-out.

The telephony side (engine/telephony/) tells this service when a phone connects or drops and
when a call connects or ends; this service owns every session state change, persists it,
and publishes it to the session's WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from engine.clock import utc_now
from engine.errors import InvalidInput, LoginFailed, NotAllowed, NotFound
from engine.models import (
    Attempt,
    AudioMode,
    Campaign,
    Session,
    SessionState,
    Voter,
)
from engine.notifier import DialingView, Notifier
from engine.scripts.render import render_script
from engine.security.login_limits import LoginLimiter, SignupLimiter
from engine.security.password_hasher import PasswordHasher
from engine.sessions import credentials
from engine.sessions.logins import SignUp, VolunteerLogins
from engine.sessions.preview import PreviewActions
from engine.sessions.results import ResultActions
from engine.sessions.states import (
    LIVE_STATES,
    PREVIEW_STATES,
    SessionEvent,
    describe,
    next_session_state,
)
from engine.store.base import Store
from engine.telephony.softphone import BrowserLogin

log = logging.getLogger(__name__)

PIN_LENGTH = 8
"""Digits in a call-in PIN (not starting with 0: 90 million PINs). With the guessing limits of
engine/callin/pin_limits.py, docs/security.md shows the odds of guessing a live one."""


class CallControl(Protocol):
    """What the volunteer service asks of the telephony side."""

    async def end_call(self, session: Session) -> None:
        """Hang up the voter's leg of the session's current call (the volunteer stays)."""

    async def release_session(self, session: Session, reason: str) -> None:
        """The session is over: tell the phone leg why (reason: 'timeout' or 'logout'), hang
        it up and destroy the session's bridge."""

    def wake(self, campaign_id: int) -> None:
        """A volunteer became ready: the campaign's dialer should look again now."""

    async def open_browser_audio(self, session: Session) -> None:
        """Create the SIP credentials the session's browser calls in with (removed by
        release_session). Raises AriError when the PBX refuses."""

    def browser_login(self, session_id: int) -> BrowserLogin | None:
        """The session's browser credentials, or None (phone mode, or already released)."""

    def dialing(self) -> DialingView:
        """Whether dialing is held now: ``{"paused": bool, "message": str}``."""


@dataclass(frozen=True)
class SignIn:
    session: Session
    token: str
    """Bearer token for the volunteer API; shown once."""
    pin: str
    callin_number: str


class VolunteerService(PreviewActions, ResultActions):
    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        calls: CallControl,
        *,
        callin_number: str,
        clock: Callable[[], datetime] = utc_now,
        hasher: PasswordHasher | None = None,
        login_limiter: LoginLimiter | None = None,
        signup_limiter: SignupLimiter | None = None,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.calls = calls
        self.callin_number = callin_number
        self.clock = clock
        self.logins = VolunteerLogins(
            store,
            hasher or PasswordHasher(),
            login_limiter=login_limiter,
            signup_limiter=signup_limiter,
            now=lambda: self.clock().timestamp(),
        )
        """Sign-up and the password check, with their limits (engine/security/login_limits.py)."""
        self._deadlines: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    # --- sign-up and sign-in --------------------------------------------------------------
    async def sign_up(self, name: str, email: str, phone: str, client: str | None = None) -> SignUp:
        """Register (or find) the volunteer and hand out a fresh Login ID and password; see
        VolunteerLogins.sign_up (``client``: the caller's address, None when in-process)."""
        return await self.logins.sign_up(name, email, phone, client)

    async def sign_in(
        self, login_id: str, password: str, campaign: str | int, audio_mode: str, client: str
    ) -> SignIn:
        """Check the login, open a session on ``campaign`` and hand out its PIN.

        Raises RateLimited after repeated failures from ``client``, LoginFailed for a wrong
        Login ID or password, NotFound for an unknown campaign, InvalidInput for a bad mode.
        """
        login = await self.logins.check(login_id, password, client)
        try:
            mode = AudioMode(audio_mode)
        except ValueError:
            raise InvalidInput("audio mode must be 'phone' or 'browser'") from None
        found = await self._campaign(campaign)
        token = credentials.new_token()
        async with self._lock:
            pin = credentials.new_pin(PIN_LENGTH, await self.store.pins_in_use())
            session = await self.store.create_session(
                login.volunteer_id, found.id, mode, pin, credentials.token_hash(token), self.clock()
            )
        await self.store.use_login(login.login_id, self.clock())
        if mode == AudioMode.BROWSER:
            await self.calls.open_browser_audio(session)
        log.info(
            "session %d: volunteer %d signed in to campaign %d (%s)",
            session.id,
            login.volunteer_id,
            found.id,
            mode,
        )
        return SignIn(session, token, pin, self.callin_number)

    async def _campaign(self, campaign: str | int) -> Campaign:
        """The campaign to sign in to, by id or name. Raises NotFound when there is none,
        NotAllowed when it is not taking volunteers (inactive)."""
        found = None
        if isinstance(campaign, int) or str(campaign).isdigit():
            with contextlib.suppress(NotFound):
                found = await self.store.get_campaign(int(campaign))
        found = found or await self.store.campaign_by_name(str(campaign))
        names = [c.name for c in await self.store.list_campaigns() if c.active]
        if found is None:
            raise NotFound(f"there is no campaign called '{campaign}': choose one of {names}")
        if not found.active:
            raise NotAllowed(
                f"the campaign '{found.name}' is not taking volunteers at the moment: "
                f"choose one of {names}, or ask its organizer"
            )
        return found

    async def session_for_token(self, token: str) -> Session:
        session = await self.store.session_by_token_hash(credentials.token_hash(token))
        if session is None:
            raise LoginFailed("this sign-in is not valid any more: please sign in again")
        return session

    # --- state changes --------------------------------------------------------------------
    async def transition(self, session: Session, event: SessionEvent, **fields: Any) -> Session:
        """Apply ``event`` (IllegalTransition if it does not fit), persist, publish."""
        phone = fields.get("channel_id", session.channel_id) is not None
        state = next_session_state(session.state, event, phone=phone)
        updated = await self.store.update_session(session.id, state=state, **fields)
        if state != session.state:
            log.info("session %d: %s -[%s]-> %s", session.id, session.state, event, state)
        self.publish_state(updated)
        return updated

    def publish_state(self, session: Session) -> None:
        self.notifier.publish(
            session.campaign_id,
            session.id,
            {
                "type": "session",
                "session_id": session.id,
                "state": str(session.state),
                "message": describe(session.state, phone=session.channel_id is not None),
                "phone": session.channel_id is not None,
                "wrapup_deadline": session.wrapup_deadline.isoformat()
                if session.wrapup_deadline
                else None,
            },
        )

    async def start_calling(self, session_id: int) -> Session:
        session = await self.store.get_session(session_id)
        if session.state == SessionState.READY:
            return session  # a double click
        if session.state in (SessionState.WAITING_FOR_PHONE, SessionState.PHONE_DISCONNECTED):
            raise NotAllowed(
                f"call {self.callin_number} and enter your PIN {session.pin} "
                "first; calling starts once your phone is connected"
            )
        event = (
            SessionEvent.RESUME
            if session.state == SessionState.PAUSED
            else SessionEvent.START_CALLING
        )
        session = await self.transition(session, event)
        self.calls.wake(session.campaign_id)
        return session

    async def pause(self, session_id: int) -> Session:
        session = await self.store.get_session(session_id)
        if session.state == SessionState.PAUSED:
            return session  # a double click
        if session.state in PREVIEW_STATES:
            session = await self._give_back(session)
        return await self.transition(session, SessionEvent.PAUSE)

    async def end_call(self, session_id: int) -> None:
        session = await self.store.get_session(session_id)
        if session.state == SessionState.RINGING:
            await self.cancel_call(session_id)
            return
        if session.state != SessionState.TALKING:
            raise NotAllowed("there is no call to end")
        await self.calls.end_call(session)

    async def log_out(self, session_id: int, reason: str = "logout") -> Session:
        session = await self.store.get_session(session_id)
        if session.state == SessionState.LOGGED_OUT:
            return session
        if session.state in PREVIEW_STATES:
            session = await self._give_back(session, strict=False)
        if session.state == SessionState.TALKING:
            await self.calls.end_call(session)
        self._cancel_deadline(session.id)
        session = await self.transition(
            session,
            SessionEvent.WRAPUP_TIMEOUT if reason == "timeout" else SessionEvent.LOG_OUT,
            ended_at=self.clock(),
            end_reason=reason,
        )
        await self.calls.release_session(session, reason)
        return session

    # --- events from the telephony side ---------------------------------------------------
    async def phone_connected(self, session: Session, channel_id: str, bridge_id: str) -> Session:
        """The phone joined the session's bridge, in whatever state the session is now (a
        volunteer who was taking calls is READY again at once)."""
        session = await self.store.get_session(session.id)
        session = await self.transition(
            session, SessionEvent.PHONE_CONNECTED, channel_id=channel_id, bridge_id=bridge_id
        )
        if session.state == SessionState.READY:
            self.calls.wake(session.campaign_id)
        return session

    async def phone_dropped(self, session: Session) -> Session:
        session = await self.store.get_session(session.id)
        if session.state not in LIVE_STATES:
            return session
        if session.state in PREVIEW_STATES:
            session = await self._give_back(session, strict=False)
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

    async def call_connected(
        self, session: Session, attempt: Attempt, voter: Voter, campaign: Campaign
    ) -> Session:
        session = await self.transition(
            session, SessionEvent.CALL_CONNECTED, attempt_id=attempt.id, wrapup_deadline=None
        )
        self.notifier.publish(
            campaign.id,
            session.id,
            {
                "type": "voter",
                "session_id": session.id,
                **await self.card(session, attempt, voter, campaign),
            },
        )
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

    # --- wrap-up --------------------------------------------------------------------------
    def schedule_deadline(self, session: Session) -> None:
        assert session.wrapup_deadline is not None
        self._cancel_deadline(session.id)
        delay = max(0.0, (session.wrapup_deadline - self.clock()).total_seconds())
        loop = asyncio.get_running_loop()
        self._deadlines[session.id] = loop.call_later(delay, self._spawn_deadline, session.id)

    def _cancel_deadline(self, session_id: int) -> None:
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
        if session.state == SessionState.WRAP_UP:
            log.info("session %d: no result before the wrap-up deadline; logging out", session_id)
            await self.log_out(session_id, reason="timeout")

    # --- what the volunteer's page shows ----------------------------------------------------
    async def card(
        self, session: Session, attempt: Attempt, voter: Voter, campaign: Campaign
    ) -> dict[str, Any]:
        volunteer = await self.store.get_volunteer(session.volunteer_id)
        return {
            "attempt_id": attempt.id,
            "voter": {"id": voter.id, **voter.fields()},
            "script": render_script(campaign.script, voter.fields(), volunteer.name.split()[0]),
        }

    async def view(self, session_id: int) -> dict[str, Any]:
        """Everything the volunteer page needs to (re)draw itself."""
        session = await self.store.get_session(session_id)
        campaign = await self.store.get_campaign(session.campaign_id)
        view: dict[str, Any] = {
            "session_id": session.id,
            "state": str(session.state),
            "message": describe(session.state, phone=session.channel_id is not None),
            "phone": session.channel_id is not None,
            "pin": session.pin,
            "callin_number": self.callin_number,
            "audio_mode": str(session.audio_mode),
            "campaign": {
                "id": campaign.id,
                "name": campaign.name,
                "dial_mode": campaign.dial_mode,
                "survey": campaign.survey,
                "term_codes": [
                    {"code": t.code, "label": t.label, "kind": str(t.kind)}
                    for t in campaign.term_codes
                ],
            },
            "wrapup_deadline": session.wrapup_deadline.isoformat()
            if session.wrapup_deadline
            else None,
            "call": None,
            "result": None,
            "end_reason": session.end_reason,
            "softphone": None,
            "dialing": self.calls.dialing(),
        }
        login = self.calls.browser_login(session.id)
        if login is not None and session.state in LIVE_STATES:
            view["softphone"] = {
                "ws_url": login.ws_url,
                "uri": login.uri,
                "username": login.endpoint,
                "password": login.password,
            }
        if session.attempt_id is not None and session.state in LIVE_STATES:
            attempt = await self.store.get_attempt(session.attempt_id)
            voter = await self.store.get_voter(attempt.voter_id)
            view["call"] = await self.card(session, attempt, voter, campaign)
            result = await self.store.result_for_attempt(attempt.id)
            if result is not None:
                view["result"] = {
                    "term_code": result.term_code,
                    "answers": result.answers,
                    "notes": result.notes,
                }
        return view

    async def recover(self) -> None:
        """After a restart: re-arm wrap-up deadlines (expired ones log out now); a session
        left ready without a phone (by an older version) waits for its phone."""
        for session in await self.store.live_sessions():
            if session.state == SessionState.READY and session.channel_id is None:
                await self.transition(session, SessionEvent.PHONE_DROPPED)
            elif session.state == SessionState.WRAP_UP and session.wrapup_deadline:
                self.schedule_deadline(session)
            elif session.state in PREVIEW_STATES:
                # The previewed voter's attempt was closed with the other open attempts.
                await self.transition(session, SessionEvent.PREVIEW_RELEASED)
