"""Volunteers calling in: answer, ask for the PIN, join the session's bridge for the shift.

Wrong PIN: prompt again; the third failure hears conf-invalidpin and is hung up. A PIN of an
ended session counts as wrong. A volunteer who calls in again rejoins their session's bridge.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.errors import AriNotFound
from engine.session_states import LIVE_STATES

if TYPE_CHECKING:
    from engine.telephony.runtime import Telephony

log = logging.getLogger(__name__)

MAX_PIN_FAILURES = 3
PROMPT = "sound:conf-getpin"
INVALID = "sound:conf-invalidpin"


@dataclass
class PinEntry:
    """The digits a caller has typed so far; pure, so it is unit-tested without Asterisk."""

    pin_length: int
    digits: str = ""
    failures: int = 0
    prompt_id: str | None = None

    def add(self, digit: str) -> str | None:
        """Add a DTMF digit; return the PIN typed when it is complete ('#' or full length)."""
        if digit == "#":
            typed, self.digits = self.digits, ""
            return typed
        if digit.isdigit():
            self.digits += digit
        if len(self.digits) >= self.pin_length:
            typed, self.digits = self.digits, ""
            return typed
        return None

    def fail(self) -> bool:
        """Count a wrong PIN; True when the caller has no tries left."""
        self.failures += 1
        return self.failures >= MAX_PIN_FAILURES


@dataclass
class CallIns:
    """Call-in channels still entering their PIN, by channel id."""

    telephony: Telephony
    pin_length: int
    entries: dict[str, PinEntry] = field(default_factory=dict)

    async def on_start(self, channel: dict[str, Any]) -> None:
        channel_id = channel["id"]
        caller = channel.get("caller", {}).get("number", "")
        log.info("call-in %s from %s: answering", channel_id, caller)
        entry = PinEntry(self.pin_length)
        self.entries[channel_id] = entry
        tel = self.telephony
        with contextlib.suppress(AriNotFound):
            await tel.ari.answer(channel_id)
            entry.prompt_id = await tel.player.play("channels", channel_id, PROMPT)

    async def on_dtmf(self, channel_id: str, digit: str) -> bool:
        """Handle a digit if the channel is entering a PIN; False if it is not ours."""
        entry = self.entries.get(channel_id)
        if entry is None:
            return False
        if entry.prompt_id is not None:
            await self.telephony.player.stop(entry.prompt_id)
            entry.prompt_id = None
        typed = entry.add(digit)
        if typed is not None:
            await self._check(channel_id, entry, typed)
        return True

    async def _check(self, channel_id: str, entry: PinEntry, typed: str) -> None:
        tel = self.telephony
        session = await tel.store.session_by_pin(typed) if typed else None
        if session is not None and session.state in LIVE_STATES:
            log.info(
                "call-in %s: PIN accepted for session %d (try %d)",
                channel_id,
                session.id,
                entry.failures + 1,
            )
            del self.entries[channel_id]
            await tel.join_session(session, channel_id)
            return
        reason = "ended session" if session is not None else f"unknown PIN of {len(typed)} digits"
        out = entry.fail()
        log.info(
            "call-in %s: wrong PIN (%s), failure %d of %d",
            channel_id,
            reason,
            entry.failures,
            MAX_PIN_FAILURES,
        )
        with contextlib.suppress(AriNotFound):
            if out:
                del self.entries[channel_id]
                await tel.player.play("channels", channel_id, INVALID, wait=True, timeout=10)
                await tel.ari.hangup(channel_id)
            else:
                entry.prompt_id = await tel.player.play("channels", channel_id, [INVALID, PROMPT])

    def forget(self, channel_id: str) -> None:
        self.entries.pop(channel_id, None)
