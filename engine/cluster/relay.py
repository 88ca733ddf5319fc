"""Connects this engine's Notifier to the other engines over the bus: what is published here
also reaches the volunteers' and dashboards' WebSockets connected to other engines, and what
they publish reaches the ones connected here; exactly once each (the notifier delivers its own
events locally, the relay hands in only other engines' events, and those are never forwarded
again).

Wiring (engine/app.py): ``outbox = RelayOutbox()``; ``Notifier(outbox.put)``;
``NotifierRelay(bus, notifier, outbox).run()`` as a task.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from engine.cluster.bus import Bus
from engine.errors import ClusterUnavailable, InvalidInput
from engine.notifier import Delivery, Notifier

log = logging.getLogger(__name__)

TOPIC = "notifier"
OUTBOX_SIZE = 10_000


class RelayOutbox:
    """The notifier's outbox: a queue the relay empties onto the bus. Never blocks the
    publisher; past OUTBOX_SIZE waiting deliveries (the bus is down) the oldest are dropped."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Delivery] = asyncio.Queue(OUTBOX_SIZE)

    def put(self, delivery: Delivery) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            log.warning("relay: the bus is behind; dropped the oldest event for other engines")
        self.queue.put_nowait(delivery)


def encoded(delivery: Delivery) -> dict[str, Any]:
    return {
        "event": delivery.event,
        "campaign_id": delivery.campaign_id,
        "session_ids": list(delivery.session_ids),
        "everyone": delivery.everyone,
    }


def decoded(payload: dict[str, Any]) -> Delivery:
    return Delivery(
        event=payload["event"],
        campaign_id=payload["campaign_id"],
        session_ids=tuple(payload["session_ids"]),
        everyone=bool(payload["everyone"]),
    )


class NotifierRelay:
    def __init__(self, bus: Bus, notifier: Notifier, outbox: RelayOutbox) -> None:
        self._bus, self._notifier, self._outbox = bus, notifier, outbox

    async def run(self) -> None:
        """Forward and receive until cancelled."""
        with self._bus.subscribe(TOPIC) as inbox:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._forward())
                tasks.create_task(self._receive(inbox))

    async def _forward(self) -> None:
        while True:
            delivery = await self._outbox.queue.get()
            try:
                await self._bus.publish(TOPIC, encoded(delivery))
            except (ClusterUnavailable, InvalidInput) as error:
                log.warning("relay: an event did not reach the other engines: %s", error)

    async def _receive(self, inbox: asyncio.Queue[Any]) -> None:
        while True:
            message = await inbox.get()
            if message.origin == self._bus.engine_id:
                continue
            try:
                delivery = decoded(message.payload)
            except (KeyError, TypeError, ValueError) as error:
                log.warning("relay: skipped a malformed event from %s (%r)", message.origin, error)
                continue
            self._notifier.deliver(delivery)
