"""Playing prompts and waiting for them: playback ids mapped to futures resolved by events."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from engine.ari.client import AriClient, TargetKind
from engine.ari.event_types import PlaybackFinished
from engine.errors import AriError, AriNotFound

RETRY_STOP_S = 0.02


class Player:
    def __init__(self, ari: AriClient) -> None:
        self.ari = ari
        self._waiting: dict[str, tuple[asyncio.Future[None], str]] = {}

    async def play(
        self,
        kind: TargetKind,
        target_id: str,
        media: str | list[str],
        *,
        wait: bool = False,
        timeout: float = 30.0,
    ) -> str:
        """Start ``media`` on a channel or bridge; with ``wait``, return when it has finished
        (or the target went away). Returns the playback id. AriNotFound if the target is gone."""
        playback_id = f"pb-{uuid.uuid4().hex[:16]}"
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[playback_id] = (done, target_id)
        try:
            await self.ari.play(kind, target_id, media, playback_id=playback_id)
            if wait:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(done), timeout)
        except BaseException:
            self._waiting.pop(playback_id, None)
            raise
        if wait:
            self._waiting.pop(playback_id, None)
        return playback_id

    async def stop(self, playback_id: str, *, wait: float = 0.0) -> bool:
        """Stop a playback. With ``wait`` (seconds), return only once Asterisk reports it
        finished: True, or False if it has not within ``wait``.

        A channel playing to a bridge is out of the bridge's mix until its playback has really
        ended, some milliseconds after the stop request; and a playback that has only just
        started refuses to stop for an instant (HTTP 500 "Could not stop playback"): with
        ``wait`` it is asked again until then. Raises AriError if it still refuses."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        waiting = self._waiting.get(playback_id)
        while True:
            try:
                with contextlib.suppress(AriNotFound):  # already over
                    await self.ari.stop_playback(playback_id)
                break
            except AriError:
                if loop.time() >= deadline:
                    raise
                await asyncio.sleep(RETRY_STOP_S)
        if not wait or waiting is None:
            return True
        try:
            await asyncio.wait_for(asyncio.shield(waiting[0]), max(0.0, deadline - loop.time()))
        except TimeoutError:
            return False
        return True

    def on_PlaybackFinished(self, event: PlaybackFinished) -> None:
        waiting = self._waiting.pop(event.playback_id, None)
        if waiting is not None and not waiting[0].done():
            waiting[0].set_result(None)

    def target_gone(self, target_id: str) -> None:
        """Release whoever waits on a playback to ``target_id``: it hung up."""
        for playback_id, (done, target) in list(self._waiting.items()):
            if target == target_id:
                self._waiting.pop(playback_id, None)
                if not done.done():
                    done.set_result(None)
