"""Volunteers calling in: answer, ask for the PIN, join the session's bridge for the shift.

Each call-in is one task (`on_start`) that owns the conversation: ARI event handlers only hand
it digits (`on_dtmf` never waits), so prompts and goodbyes it waits for hold up nobody else.
Wrong PIN: prompt again (and the page waiting for that caller's phone is told: wrong_pin.py); the
third failure hears conf-invalidpin and is hung up. A PIN of an
ended session counts as wrong. No digit for `pin_idle_seconds`, or more than
`pin_entry_seconds` in all: goodbye. Wrong PINs are limited per caller ID and over all callers
(engine/callin/pin_limits.py); a refused caller hears why and is hung up without their PIN being
looked at. A live PIN whose session already has a connected phone leg is refused: the
volunteer's own line is never dropped for a new caller. Every attempt is logged, never the
digits typed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from engine.ari.client import AriClient
from engine.ari.event_types import Channel
from engine.audio.media import Player
from engine.audio.sounds import SoundLibrary
from engine.callin.pin_limits import PinGuard, Refusal
from engine.callin.wrong_pin import WrongPinNotices, wrong_pin_message
from engine.config import CallinConfig
from engine.errors import AriError, AriNotFound
from engine.models import Session
from engine.notifier import Notifier
from engine.sessions.states import LIVE_STATES
from engine.store.base import Store

log = logging.getLogger(__name__)

MAX_PIN_FAILURES = 3
PROMPT = "sound:conf-getpin"
INVALID = "sound:conf-invalidpin"
GOODBYE = "sound:vm-goodbye"
GOODBYE_TIMEOUT_S = 15.0
IN_USE = (
    "This PIN is already in use on another phone, so this call cannot join. "
    "If that is you, use the phone that is already connected. Goodbye."
)
LOCKED = {
    "caller": "Too many wrong PINs were entered from this phone. "
    "Please try again in {wait}. Goodbye.",
    "overall": "The call-in line is not taking PINs right now because too many wrong PINs "
    "were entered. Please try again in {wait}, or use your computer for audio. Goodbye.",
}


def locked_message(scope: str, minutes: int) -> str:
    """What a caller refused by a lockout of ``scope`` ('caller' or 'overall') hears."""
    return LOCKED[scope].format(wait=f"{minutes} minute{'' if minutes == 1 else 's'}")


PIN_IN_USE_NOTICE = (
    "Someone called in with your PIN while your phone was connected. They were refused and "
    "your line stayed connected."
)


@dataclass
class PinEntry:
    """The digits a caller has typed so far and the time they have left; pure, so it is
    unit-tested without Asterisk. Times are seconds of a monotonic clock."""

    pin_length: int
    started_at: float = 0.0
    idle_seconds: float = 20.0
    entry_seconds: float = 60.0
    digits: str = ""
    failures: int = 0
    last_prompt_at: float = 0.0

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

    def prompted(self, now: float) -> None:
        """The caller was (re)prompted at `now`: the idle time counts from here."""
        self.last_prompt_at = now

    def wait_for_digit(self, now: float, last_digit_at: float) -> float:
        """Seconds to wait for the next digit at `now` (<= 0: time is up), given when the
        last digit came (or the prompt, whichever is later)."""
        idle_deadline = max(last_digit_at, self.last_prompt_at) + self.idle_seconds
        return min(idle_deadline, self.started_at + self.entry_seconds) - now


@dataclass
class _Caller:
    channel_id: str
    number: str
    entry: PinEntry
    digits: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    prompt_id: str | None = None


class CallIns:
    """Call-in conversations still entering their PIN, by channel id."""

    def __init__(
        self,
        ari: AriClient,
        store: Store,
        notifier: Notifier,
        player: Player,
        sounds: SoundLibrary,
        join_session: Callable[[Session, str], Awaitable[None]],
        pin_length: int,
        cfg: CallinConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ari = ari
        self.store = store
        self.notifier = notifier
        self.player = player
        self.sounds = sounds
        self.join_session = join_session
        """Put the caller's channel into the session's bridge (Telephony.join_session)."""
        self.pin_length = pin_length
        self.cfg = cfg or CallinConfig()
        self.guard = PinGuard(self.cfg)
        self.wrong_pins = WrongPinNotices(store, notifier)
        """Tells the page waiting for the caller's phone that its PIN was not accepted."""
        self.clock = clock
        self.callers: dict[str, _Caller] = {}
        self._owners: dict[str, asyncio.Task[Any]] = {}
        self._joining: set[int] = set()
        """Sessions a caller is being joined to right now (a second caller is refused)."""

    # --- from the event lanes (never wait) ---------------------------------------------------
    def on_dtmf(self, channel_id: str, digit: str) -> bool:
        """Hand a digit to the channel's conversation; False if it is not entering a PIN."""
        caller = self.callers.get(channel_id)
        if caller is None:
            return False
        caller.digits.put_nowait(digit)
        return True

    def forget(self, channel_id: str) -> None:
        """The channel left: end its conversation (its task is cancelled)."""
        self.callers.pop(channel_id, None)
        task = self._owners.pop(channel_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    # --- the conversation (one task per call-in) -----------------------------------------
    async def on_start(self, channel: Channel) -> None:
        cfg = self.cfg
        entry = PinEntry(self.pin_length, self.clock(), cfg.pin_idle_seconds, cfg.pin_entry_seconds)
        caller = _Caller(channel.id, channel.caller_number, entry)
        log.info("call-in %s from %s: answering", caller.channel_id, caller.number or "unknown")
        self.callers[caller.channel_id] = caller
        task = asyncio.current_task()
        if task is not None:
            self._owners[caller.channel_id] = task
        try:
            with contextlib.suppress(AriNotFound):
                await self._converse(caller)
        except AriError as exc:  # never leave a caller held in Stasis with no conversation
            log.warning(
                "call-in %s: the PBX failed the call (%s); hanging up", caller.channel_id, exc
            )
            with contextlib.suppress(AriError):
                await self.ari.hangup(caller.channel_id)
        finally:
            if self.callers.get(caller.channel_id) is caller:
                del self.callers[caller.channel_id]
            if task is not None and self._owners.get(caller.channel_id) is task:
                del self._owners[caller.channel_id]

    async def _converse(self, caller: _Caller) -> None:
        await self.ari.answer(caller.channel_id)
        refused = self.guard.refusal(caller.number, self.clock())
        if refused is not None:
            await self.wrong_pins.tell(caller.number, _locked_message(refused))
            await self._refuse_locked(caller, refused)
            return
        await self._prompt(caller, PROMPT)
        while True:
            typed = await self._read_pin(caller)
            if typed is None:
                log.info("call-in %s from %s: no PIN typed in time; goodbye", *_who(caller))
                await self._goodbye(caller, [INVALID, GOODBYE])
                return
            if await self._check(caller, typed):
                return
            await self._prompt(caller, [INVALID, PROMPT])

    async def _prompt(self, caller: _Caller, media: str | list[str]) -> None:
        caller.entry.prompted(self.clock())
        caller.prompt_id = await self.player.play("channels", caller.channel_id, media)

    async def _read_pin(self, caller: _Caller) -> str | None:
        """The next complete PIN typed, or None when the caller ran out of time."""
        last_digit_at = caller.entry.last_prompt_at
        while True:
            timeout = caller.entry.wait_for_digit(self.clock(), last_digit_at)
            if timeout <= 0:
                return None
            try:
                digit = await asyncio.wait_for(caller.digits.get(), timeout)
            except TimeoutError:
                continue  # the loop decides whether time is really up
            last_digit_at = self.clock()
            if caller.prompt_id is not None:  # the caller talks over the prompt: stop it
                with contextlib.suppress(AriError):  # refused for an instant: the next digit asks
                    await self.player.stop(caller.prompt_id)
                    caller.prompt_id = None
            typed = caller.entry.add(digit)
            if typed is not None:
                return typed

    async def _check(self, caller: _Caller, typed: str) -> bool:
        """Act on a typed PIN; True when the conversation is over (joined or hung up)."""
        now = self.clock()
        refused = self.guard.refusal(caller.number, now)
        if refused is not None:  # locked meanwhile: the PIN is not even looked at
            await self._refuse_locked(caller, refused)
            return True
        store = self.store
        session = await store.session_by_pin(typed) if typed else None
        if session is not None and session.state in LIVE_STATES:
            await self._accept(caller, session)
            return True
        reason = "ended session" if session is not None else f"unknown PIN of {len(typed)} digits"
        out = caller.entry.fail()
        started = self.guard.record_failure(caller.number, now)
        log.info(
            "call-in %s from %s: wrong PIN (%s), failure %d of %d on this call",
            *_who(caller),
            reason,
            caller.entry.failures,
            MAX_PIN_FAILURES,
        )
        for lockout in started:
            _log_lockout(caller, lockout)
        tries_left = MAX_PIN_FAILURES - caller.entry.failures
        message = _locked_message(started[-1]) if started else wrong_pin_message(tries_left)
        await self.wrong_pins.tell(caller.number, message)
        if started:
            await self._refuse_locked(caller, started[-1])
            return True
        if out:
            await self._goodbye(caller, [INVALID, GOODBYE])
        return out

    async def _accept(self, caller: _Caller, session: Session) -> None:
        if session.id in self._joining or await self._leg_alive(session):
            log.warning(
                "call-in %s from %s: PIN of session %d refused: its phone leg %s is connected",
                *_who(caller),
                session.id,
                session.channel_id,
            )
            self.notifier.publish(
                session.campaign_id,
                session.id,
                {"type": "pin_in_use", "session_id": session.id, "message": PIN_IN_USE_NOTICE},
            )
            await self._goodbye(caller, await self.sounds.media_for(IN_USE))
            return
        log.info(
            "call-in %s from %s: PIN accepted for session %d (try %d)",
            *_who(caller),
            session.id,
            caller.entry.failures + 1,
        )
        self.callers.pop(caller.channel_id, None)  # from here on the channel is the session's
        self._owners.pop(caller.channel_id, None)
        self._joining.add(session.id)
        try:
            await self.join_session(session, caller.channel_id)
        finally:
            self._joining.discard(session.id)

    async def _leg_alive(self, session: Session) -> bool:
        """Whether the session's phone or browser leg is still up in Asterisk."""
        if not session.channel_id:
            return False
        channels = await self.ari.list_channels()
        return any(c.get("id") == session.channel_id for c in channels)

    async def _refuse_locked(self, caller: _Caller, refused: Refusal) -> None:
        log.warning(
            "call-in %s from %s: PIN entry refused (%s limit of wrong PINs, %.0f s left)",
            *_who(caller),
            refused.scope,
            refused.wait,
        )
        minutes = max(1, math.ceil(refused.wait / 60))
        text = locked_message(refused.scope, minutes)
        await self._goodbye(caller, await self.sounds.media_for(text))

    async def _goodbye(self, caller: _Caller, media: str | list[str]) -> None:
        """Play `media` to the caller and hang up (in this call's own task)."""
        self.callers.pop(caller.channel_id, None)  # later digits are not a PIN any more
        if caller.prompt_id is not None:
            with contextlib.suppress(AriError):  # refused for an instant: goodbye queues after it
                await self.player.stop(caller.prompt_id)
            caller.prompt_id = None
        with contextlib.suppress(AriNotFound):
            await self.player.play(
                "channels", caller.channel_id, media, wait=True, timeout=GOODBYE_TIMEOUT_S
            )
            await self.ari.hangup(caller.channel_id)


def _who(caller: _Caller) -> tuple[str, str]:
    return caller.channel_id, caller.number or "unknown"


def _locked_message(refused: Refusal) -> str:
    return wrong_pin_message(0, refused.wait, refused.scope)


def _log_lockout(caller: _Caller, lockout: Refusal) -> None:
    if lockout.scope == "caller":
        log.warning(
            "PIN guessing: caller %s reached the limit of wrong PINs; refused for %.0f s",
            caller.number or "unknown",
            lockout.wait,
        )
    else:
        log.warning(
            "PIN guessing: all callers together reached the limit of wrong PINs; every "
            "call-in is refused for %.0f s (last from %s)",
            lockout.wait,
            caller.number or "unknown",
        )
