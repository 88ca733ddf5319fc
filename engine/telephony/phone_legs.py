"""Volunteers' phone legs: which channel is whose session, and releasing a finished session's
leg (say goodbye, hang up, destroy the bridge, remove the browser's SIP credentials).

Built before the session ledger (engine/sessions/ledger.py), which releases a session's leg
when it logs out or misses its wrap-up deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from engine.ari.client import AriClient
from engine.audio.media import Player
from engine.audio.sounds import SoundLibrary
from engine.errors import AriNotFound
from engine.models import EndReason, Session
from engine.telephony.softphone import Softphones

log = logging.getLogger(__name__)

LOGOUT_MESSAGES = {
    EndReason.TIMEOUT: "You have been logged out because the time to enter the call result "
    "ran out too many times in a row. Please sign in again on the website to keep calling. "
    "Goodbye.",
    EndReason.LOGOUT: "You are logged out. Thank you for volunteering. Goodbye.",
}


class PhoneLegs:
    def __init__(
        self, ari: AriClient, player: Player, sounds: SoundLibrary, softphones: Softphones
    ) -> None:
        self.ari = ari
        self.player = player
        self.sounds = sounds
        self.softphones = softphones
        self._sessions: dict[str, int] = {}
        """Volunteer phone channels in their bridge, to session id."""
        self._tasks: set[asyncio.Task[Any]] = set()

    def add(self, channel_id: str, session_id: int) -> None:
        self._sessions[channel_id] = session_id

    def pop(self, channel_id: str) -> int | None:
        """Forget the channel; the session it belonged to, if it was a volunteer's leg."""
        return self._sessions.pop(channel_id, None)

    def channels(self) -> Iterator[str]:
        """The volunteers' channels (a copy: safe to pop while iterating)."""
        return iter(list(self._sessions))

    async def release_session(self, session: Session, reason: EndReason) -> None:
        """Say goodbye on the phone leg and hang it up, in the background (a log-out request
        does not wait for the message to play)."""
        if session.channel_id:
            self._sessions.pop(session.channel_id, None)
        task = asyncio.ensure_future(self._release(session, reason))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    async def _release(self, session: Session, reason: EndReason) -> None:
        channel_id = session.channel_id
        try:
            if channel_id:
                media = await self.sounds.media_for(
                    LOGOUT_MESSAGES.get(reason, LOGOUT_MESSAGES[EndReason.LOGOUT])
                )
                with contextlib.suppress(AriNotFound):
                    await self.player.play("channels", channel_id, media, wait=True, timeout=20)
                    await self.ari.hangup(channel_id)
            if session.bridge_id:
                with contextlib.suppress(AriNotFound):
                    await self.ari.destroy_bridge(session.bridge_id)
        finally:
            await self.softphones.delete(session.id)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("releasing a phone leg failed", exc_info=task.exception())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
