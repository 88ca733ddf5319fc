"""Keep the ARI events of one client and let callers wait for the ones they need.

Test drivers (and bench scripts) use this to say "wait until channel X reaches Stasis" without
sleeping. The engine routes events to per-call tasks instead; this is the simple, test-side form.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from engine.ari.client import AriClient

Event = dict[str, Any]


def event_channel_id(event: Event) -> str | None:
    channel = event.get("channel") or {}
    return channel.get("id") if isinstance(channel, dict) else None


class EventLog:
    """Collects every event of one ARI client in arrival order."""

    def __init__(self, ari: AriClient) -> None:
        self._ari = ari
        self.events: list[Event] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, ari: AriClient) -> AsyncIterator[EventLog]:
        log = cls(ari)
        log._task = asyncio.create_task(log._collect(), name="event-log")
        try:
            yield log
        finally:
            log._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await log._task

    async def _collect(self) -> None:
        async for event in self._ari.events():
            async with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    def mark(self) -> int:
        """A position in the log: pass it as ``since`` to look only at later events."""
        return len(self.events)

    async def wait_for(
        self,
        match: Callable[[Event], bool],
        timeout: float = 10.0,
        what: str = "event",
        since: int = 0,
    ) -> Event:
        """The first event after position ``since`` (already seen or still to come) for which
        ``match`` is true.

        Raises TimeoutError naming ``what`` after ``timeout`` seconds.
        """
        seen = since

        def found() -> Event | None:
            nonlocal seen
            for event in self.events[seen:]:
                seen += 1
                if match(event):
                    return event
            return None

        async def waiter() -> Event:
            async with self._changed:
                while (event := found()) is None:
                    await self._changed.wait()
                return event

        try:
            return await asyncio.wait_for(waiter(), timeout)
        except TimeoutError:
            raise TimeoutError(f"no {what} within {timeout:.0f} s") from None

    async def wait_type(
        self, event_type: str, channel_id: str | None = None, timeout: float = 10.0
    ) -> Event:
        return await self.wait_for(
            lambda e: (
                e.get("type") == event_type
                and (channel_id is None or event_channel_id(e) == channel_id)
            ),
            timeout,
            what=f"{event_type} for {channel_id or 'any channel'}",
        )

    def of_channel(self, channel_id: str) -> list[Event]:
        return [e for e in self.events if event_channel_id(e) == channel_id]
