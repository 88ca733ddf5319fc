"""Telling a volunteer's page that the PIN typed on their phone was not accepted.

A wrong PIN on the call-in line is matched to the session waiting for that caller's phone: a
live session with no audio connected whose volunteer signed up with the caller ID's number.
Only those sessions are told; a caller whose number matches nobody is heard only on the line.
The matching and the sentences are pure (unit-tested); `WrongPinNotices` looks the sessions up.
"""

from __future__ import annotations

import logging
import math

from engine.models import Session, SessionState
from engine.notifier import Notifier, PinRejectedEvent
from engine.store.base import Store

log = logging.getLogger(__name__)

MIN_DIGITS = 8
"""Caller IDs and sign-up numbers are compared on their digits; shorter ones never match."""
WAITING = {SessionState.WAITING_FOR_PHONE, SessionState.PHONE_DISCONNECTED}
"""States waiting for the phone to call in; a paused or wrap-up session waits once its
phone is gone (no channel)."""
PHONE_MAY_BE_GONE = {SessionState.PAUSED, SessionState.WRAP_UP}


def digits(number: str) -> str:
    return "".join(c for c in number if c.isdigit())


def same_phone(caller: str, signed_up: str) -> bool:
    """Whether caller ID ``caller`` is the number ``signed_up`` (as typed at sign-up): the same
    digits, one possibly with a country code the other lacks ("+1 202…" and "(202) …")."""
    a, b = digits(caller), digits(signed_up)
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) < MIN_DIGITS:
        return False
    return longer.endswith(shorter) and len(longer) - len(shorter) <= 3


def wrong_pin_message(tries_left: int, locked_seconds: float = 0.0, scope: str = "") -> str:
    """The sentence the page shows after a wrong PIN from the volunteer's phone."""
    if locked_seconds > 0:
        minutes = max(1, math.ceil(locked_seconds / 60))
        wait = f"{minutes} minute{'' if minutes == 1 else 's'}"
        if scope == "overall":
            return (
                "That code was not accepted, and the call-in line is taking no codes for "
                f"{wait} because too many wrong ones were entered. Try again then, or sign in "
                'again with "Call using computer".'
            )
        return (
            "That code was not accepted, and too many wrong codes came from your phone: it "
            f"can call in again in {wait}. Then enter the PIN shown here, followed by #."
        )
    if tries_left <= 0:
        return (
            "That code was not accepted 3 times, so the call was ended. Call again and enter "
            "the PIN shown here, followed by #."
        )
    tries = "1 try" if tries_left == 1 else f"{tries_left} tries"
    return f"That code was not accepted; you have {tries} left."


def waits_for_phone(session: Session) -> bool:
    if session.state in WAITING:
        return True
    return session.state in PHONE_MAY_BE_GONE and not session.channel_id


class WrongPinNotices:
    """Finds the sessions waiting for a caller's phone and sends them the sentence."""

    def __init__(self, store: Store, notifier: Notifier) -> None:
        self.store = store
        self.notifier = notifier

    async def tell(self, caller: str, message: str) -> list[int]:
        """Send ``message`` to each session waiting for ``caller``'s phone; their ids."""
        if len(digits(caller)) < MIN_DIGITS:
            return []
        told = []
        for session in await self.store.live_sessions():
            if not waits_for_phone(session):
                continue
            volunteer = await self.store.get_volunteer(session.volunteer_id)
            if not same_phone(caller, volunteer.phone):
                continue
            event: PinRejectedEvent = {
                "type": "pin_rejected",
                "session_id": session.id,
                "message": message,
            }
            self.notifier.publish(session.campaign_id, session.id, event)
            told.append(session.id)
        if told:
            log.info("wrong PIN from the phone of session(s) %s: told their page", told)
        return told
