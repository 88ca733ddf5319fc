"""Volunteer sessions, the web-facing side: sign-up, sign-in, ready/pause, end call, log-out,
and what the volunteer's page shows; preview buttons (preview.py) and results (results.py).

Session state changes caused by the phone and the calls, and the wrap-up deadline, are the
ledger's (ledger.py); this service is built after the telephony side and uses both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.clock import utc_now
from engine.errors import InvalidInput, LoginFailed, NotAllowed, NotFound
from engine.models import AfterResult, AudioMode, Campaign, EndReason, Result, Session, SessionState
from engine.security import credentials
from engine.security.login_limits import LoginLimiter, SignupLimiter
from engine.security.password_hasher import PasswordHasher
from engine.sessions.control import CallControl
from engine.sessions.ledger import SessionLedger
from engine.sessions.logins import SignUp, VolunteerLogins
from engine.sessions.preview import PreviewActions
from engine.sessions.results import ResultActions
from engine.sessions.states import LIVE_STATES, PREVIEW_STATES, SessionEvent, describe
from engine.store.base import Store
from engine.voters.phone_display import format_phone

log = logging.getLogger(__name__)

PIN_LENGTH = 8
"""Digits in a call-in PIN (not starting with 0: 90 million PINs). With the guessing limits of
engine/callin/pin_limits.py, docs/security.md shows the odds of guessing a live one."""


@dataclass(frozen=True)
class SignIn:
    session: Session
    token: str
    """Bearer token for the volunteer API; shown once."""
    pin: str
    callin_number: str


class VolunteerService:
    def __init__(
        self,
        store: Store,
        ledger: SessionLedger,
        calls: CallControl,
        *,
        callin_number: str,
        clock: Callable[[], datetime] = utc_now,
        hasher: PasswordHasher | None = None,
        login_limiter: LoginLimiter | None = None,
        signup_limiter: SignupLimiter | None = None,
        availability: Callable[[int], dict[str, Any] | None] = lambda campaign_id: None,
        region: str = "US",
    ) -> None:
        self.store = store
        self.availability = availability
        """Why nobody of a campaign can be called now, or None (engine/dialer/idle_watch.py)."""
        self.region = region
        """Where the call-in number is shown in national format (engine.default_region)."""
        self.ledger = ledger
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
        self.preview = PreviewActions(store, ledger, calls)
        self.results = ResultActions(store, ledger, calls, clock=clock)
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
        self.ledger.publish_state(session)  # the dashboards list who signed in (issue 14)
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

    # --- the volunteer's buttons ---------------------------------------------------------
    async def start_calling(self, session_id: int) -> Session:
        session = await self.store.get_session(session_id)
        if session.state == SessionState.READY:
            return session  # a double click
        if session.state in (SessionState.WAITING_FOR_PHONE, SessionState.PHONE_DISCONNECTED):
            if session.audio_mode == AudioMode.BROWSER:
                raise NotAllowed(
                    "your computer's audio is not connected yet: allow the microphone, or "
                    "reload this page; calling starts once it is connected"
                )
            raise NotAllowed(
                f"call {self.callin_number} and enter your PIN {session.pin} "
                "first; calling starts once your phone is connected"
            )
        event = (
            SessionEvent.RESUME
            if session.state == SessionState.PAUSED
            else SessionEvent.START_CALLING
        )
        # wrapup_deadline: a break the deadline started is over (the page stops saying so)
        session = await self.ledger.transition(session, event, wrapup_deadline=None)
        self.calls.wake(session.campaign_id)
        return session

    async def pause(self, session_id: int) -> Session:
        session = await self.store.get_session(session_id)
        if session.state == SessionState.PAUSED:
            return session  # a double click
        if session.state in PREVIEW_STATES:
            session = await self.preview.give_back(session)
        return await self.ledger.transition(session, SessionEvent.PAUSE)

    async def end_call(self, session_id: int) -> None:
        session = await self.store.get_session(session_id)
        if session.state == SessionState.RINGING:
            await self.cancel_call(session_id)
            return
        if session.state != SessionState.TALKING:
            raise NotAllowed("there is no call to end")
        await self.calls.end_call(session)

    async def log_out(self, session_id: int, reason: EndReason = EndReason.LOGOUT) -> Session:
        session = await self.store.get_session(session_id)
        if session.state == SessionState.LOGGED_OUT:
            return session
        if session.state in PREVIEW_STATES:
            session = await self.preview.give_back(session, strict=False)
        if session.state == SessionState.TALKING:
            await self.calls.end_call(session)
        return await self.ledger.close(session, reason)

    # --- preview and results (preview.py, results.py) -------------------------------------
    async def call_voter(self, session_id: int) -> Session:
        return await self.preview.call_voter(session_id)

    async def skip_voter(self, session_id: int) -> Session:
        return await self.preview.skip_voter(session_id)

    async def cancel_call(self, session_id: int) -> Session:
        return await self.preview.cancel_call(session_id)

    async def submit_result(
        self,
        session_id: int,
        term_code: str,
        answers: Mapping[str, Any],
        notes: str,
        then: AfterResult | None = None,
    ) -> Result:
        return await self.results.submit_result(session_id, term_code, answers, notes, then)

    async def edit_result(
        self, session_id: int, term_code: str, answers: Mapping[str, Any], notes: str
    ) -> Result:
        return await self.results.edit_result(session_id, term_code, answers, notes)

    async def save_draft(
        self,
        session_id: int,
        attempt_id: int,
        term_code: str,
        answers: Mapping[str, Any],
        notes: str,
    ) -> Result:
        return await self.results.save_draft(session_id, attempt_id, term_code, answers, notes)

    # --- what the volunteer's page shows ----------------------------------------------------
    async def view(self, session_id: int) -> dict[str, Any]:
        """Everything the volunteer page needs to (re)draw itself."""
        session = await self.store.get_session(session_id)
        campaign = await self.store.get_campaign(session.campaign_id)
        view: dict[str, Any] = {
            "session_id": session.id,
            "state": str(session.state),
            "message": describe(
                session.state,
                phone=session.channel_id is not None,
                computer=session.audio_mode == AudioMode.BROWSER,
            ),
            "phone": session.channel_id is not None,
            "pin": session.pin,
            "callin_number": self.callin_number,
            "callin_number_display": format_phone(self.callin_number, self.region),
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
            "wrapup_missed": None,
            "softphone": None,
            "dialing": self.calls.dialing(),
            "availability": self.availability(campaign.id),
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
            view["call"] = await self.ledger.card(session, attempt, voter, campaign)
            result = await self.store.result_for_attempt(attempt.id)
            if result is not None:
                view["result"] = {
                    "term_code": result.term_code,
                    "answers": result.answers,
                    "notes": result.notes,
                    "status": str(result.status),
                }
            if session.state == SessionState.PAUSED and session.wrapup_deadline is not None:
                # paused by the wrap-up deadline (ledger.py): say what happened to the answers
                note = await self.ledger.missed_note(session, result is not None)
                view["message"] = view["wrapup_missed"] = note
        return view
