"""ARI events in order per channel, channels independent of each other.

Each channel gets a lane: a queue and a task that handles the channel's events one after the
other (panoramisk's queue per call). A handler that waits — a REST call that hangs, anything
slow — holds up only its own channel; the events websocket reader never waits for a handler.
Events that name no channel share one lane. A lane's task ends when its queue is empty and is
made again by the channel's next event, so finished calls leave nothing behind.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from engine.ari.event_types import AriEvent
from engine.errors import AriError

log = logging.getLogger(__name__)

Event = AriEvent | dict[str, Any]
"""A typed event (engine/ari/event_types.py); plain JSON is lane-routed by its channel too."""
E = TypeVar("E", bound=Event)

SLOW_HANDLER_S = 0.5
"""A handler taking longer than this is logged ("Processing delayed"): it holds up its lane."""
NO_CHANNEL = ""


def lane_of(event: Event) -> str:
    """The channel id an event is about, or NO_CHANNEL."""
    if not isinstance(event, dict):
        return event.lane
    channel = event.get("channel")
    if isinstance(channel, dict):
        return str(channel.get("id") or NO_CHANNEL)
    return NO_CHANNEL


class EventLanes(Generic[E]):
    def __init__(self, handle: Callable[[E], Awaitable[None]]) -> None:
        self._handle = handle
        self._queues: dict[str, asyncio.Queue[E]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def route(self, event: E) -> None:
        """Queue ``event`` on its channel's lane (starting the lane if idle); never waits."""
        key = lane_of(event)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = asyncio.Queue()
            self._tasks[key] = asyncio.create_task(self._drain(key, queue), name=f"lane {key}")
        queue.put_nowait(event)

    def __len__(self) -> int:
        """How many lanes are busy."""
        return len(self._queues)

    async def _drain(self, key: str, queue: asyncio.Queue[E]) -> None:
        try:
            while not queue.empty():
                await self._run(key, queue.get_nowait())
        finally:
            # No await between the empty check and here: route() cannot slip an event into a
            # queue that nobody drains.
            self._queues.pop(key, None)
            self._tasks.pop(key, None)

    async def _run(self, key: str, event: E) -> None:
        kind = event.get("type") if isinstance(event, dict) else type(event).__name__
        started = time.monotonic()
        try:
            await self._handle(event)
        except AriError as exc:
            log.warning("ARI error while handling %s of %s: %s", kind, key or "-", exc)
        except Exception:
            log.exception("failed to handle ARI event %s of %s", kind, key or "-")
        elapsed = time.monotonic() - started
        if elapsed > SLOW_HANDLER_S:
            log.warning(
                "Processing delayed: %s of %s took %.0f ms (only this channel waited)",
                kind,
                key or "-",
                elapsed * 1e3,
            )

    async def close(self) -> None:
        """Stop every lane; events still queued are dropped."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
