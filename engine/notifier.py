"""Live updates for WebSockets: each session's events, and every event of a campaign.

Subscribers get an asyncio.Queue; a slow subscriber whose queue is full loses its oldest
events rather than blocking the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from typing import Any

log = logging.getLogger(__name__)

QUEUE_SIZE = 256
Event = dict[str, Any]


class Notifier:
    def __init__(self) -> None:
        self._sessions: dict[int, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._campaigns: dict[int, set[asyncio.Queue[Event]]] = defaultdict(set)

    def publish(self, campaign_id: int, session_id: int | None, event: Event) -> None:
        """Send ``event`` to the session's subscribers and the campaign's dashboards.

        Adds ``sent_at`` (epoch seconds) so clients can measure delivery latency.
        """
        event = {**event, "sent_at": time.time()}
        queues = list(self._campaigns.get(campaign_id, ()))
        if session_id is not None:
            queues += self._sessions.get(session_id, ())
        for queue in queues:
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    def broadcast(self, event: Event) -> None:
        """Send ``event`` to every subscriber: every session's page and every dashboard."""
        event = {**event, "sent_at": time.time()}
        for table in (self._sessions, self._campaigns):
            for queues in table.values():
                for queue in queues:
                    if queue.full():
                        with contextlib.suppress(asyncio.QueueEmpty):
                            queue.get_nowait()
                    queue.put_nowait(event)

    @contextlib.contextmanager
    def session_events(self, session_id: int) -> Iterator[asyncio.Queue[Event]]:
        with self._subscribe(self._sessions, session_id) as queue:
            yield queue

    @contextlib.contextmanager
    def campaign_events(self, campaign_id: int) -> Iterator[asyncio.Queue[Event]]:
        with self._subscribe(self._campaigns, campaign_id) as queue:
            yield queue

    @contextlib.contextmanager
    def _subscribe(
        self, table: dict[int, set[asyncio.Queue[Event]]], key: int
    ) -> Iterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        table[key].add(queue)
        try:
            yield queue
        finally:
            table[key].discard(queue)
            if not table[key]:
                del table[key]


async def drain(queue: asyncio.Queue[Event]) -> AsyncIterator[Event]:
    while True:
        yield await queue.get()
