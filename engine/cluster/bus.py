"""The event bus between engine processes: PostgreSQL LISTEN/NOTIFY on one channel.

``publish(topic, payload)`` hands the message to this engine's subscribers of the topic at
once and sends it to every other engine; each engine hands what others sent to its own
subscribers. Nothing is echoed back: a listener skips messages of its own origin.

Guarantees, and their limits: a message reaches each engine listening at the time at most once;
the messages of one publisher reach every listener in the order published (one publisher
connection, notifications are delivered in commit order). A listener that was disconnected
misses what was sent meanwhile (NOTIFY keeps nothing): the bus is for live updates and
requests with a timeout, never for state; state lives in the store.

NOTIFY payloads must stay under 8000 bytes: a larger message is written to ``bus_messages``
and the notification carries its row id (rows are deleted after a minute); past MAX_BODY
bytes publish refuses it. With SQLite there is one engine and LocalBus delivers in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from engine.cluster.connection import LOST, Connection, Deadline, close_quietly, connect
from engine.errors import ClusterUnavailable, InvalidInput

log = logging.getLogger(__name__)

CHANNEL = "phonebank_bus"
NOTIFY_LIMIT = 7900
"""Largest envelope sent inline, in bytes (PostgreSQL refuses 8000 and more)."""
MAX_BODY = 1_000_000
"""Largest message accepted at all, in bytes of JSON."""
KEEP_ROWS_S = 60
SEND_TIMEOUT_S = 3.0
"""A publish (or a large message's read) that takes longer counts as a lost connection."""
QUEUE_SIZE = 4096


@dataclass(frozen=True)
class Message:
    topic: str
    payload: dict[str, Any]
    origin: str
    """The engine id of the publisher."""


class Bus(Protocol):
    @property
    def engine_id(self) -> str: ...

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        """Send to every subscriber of ``topic`` in every engine, this one included."""

    def subscribe(self, topic: str) -> contextlib.AbstractContextManager[asyncio.Queue[Message]]:
        """A queue of the topic's messages while the block runs."""

    async def run(self) -> None:
        """Receive other engines' messages until cancelled."""


class Subscribers:
    """This process's subscribers, by topic. A subscriber that falls QUEUE_SIZE messages
    behind loses its oldest ones (logged) rather than stall the bus."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[Message]]] = defaultdict(set)

    def deliver(self, message: Message) -> None:
        for queue in list(self._queues.get(message.topic, ())):
            if queue.full():
                log.warning("bus: a subscriber of %s fell behind; dropping", message.topic)
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(message)

    @contextlib.contextmanager
    def subscribe(self, topic: str) -> Iterator[asyncio.Queue[Message]]:
        queue: asyncio.Queue[Message] = asyncio.Queue(QUEUE_SIZE)
        self._queues[topic].add(queue)
        try:
            yield queue
        finally:
            self._queues[topic].discard(queue)
            if not self._queues[topic]:
                del self._queues[topic]


class LocalBus:
    """With SQLite: one engine, so every message stays in this process."""

    def __init__(self, engine_id: str) -> None:
        self._engine_id = engine_id
        self._subscribers = Subscribers()

    @property
    def engine_id(self) -> str:
        return self._engine_id

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        self._subscribers.deliver(Message(topic, dict(payload), self._engine_id))

    def subscribe(self, topic: str) -> contextlib.AbstractContextManager[asyncio.Queue[Message]]:
        return self._subscribers.subscribe(topic)

    async def run(self) -> None:
        await asyncio.Event().wait()


def envelope(message: Message) -> str:
    """The JSON a notification carries (compact; ``t`` topic, ``o`` origin, ``p`` payload)."""
    body = {"t": message.topic, "o": message.origin, "p": message.payload}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def opened(text: str) -> Message:
    """The message in an envelope. Raises ValueError, KeyError or TypeError if it is not one."""
    body = json.loads(text)
    topic, payload, origin = body["t"], body["p"], body["o"]
    if not (isinstance(topic, str) and isinstance(payload, dict) and isinstance(origin, str)):
        raise TypeError("not a bus envelope")
    return Message(topic, payload, origin)


class PgBus:
    """The bus over PostgreSQL at ``dsn``: a listener connection (run) and a publisher
    connection, each reconnected when lost."""

    def __init__(self, dsn: str, engine_id: str, retry_s: float = 1.0) -> None:
        self._dsn, self._engine_id, self._retry_s = dsn, engine_id, retry_s
        self._subscribers = Subscribers()
        self._publisher: Connection | None = None
        self._publishing = asyncio.Lock()
        self._deadline = Deadline(SEND_TIMEOUT_S)
        self.listening = asyncio.Event()
        """Set while the listener is connected (tests and health checks wait for it)."""

    @property
    def engine_id(self) -> str:
        return self._engine_id

    def subscribe(self, topic: str) -> contextlib.AbstractContextManager[asyncio.Queue[Message]]:
        return self._subscribers.subscribe(topic)

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        """Raises InvalidInput for a message over MAX_BODY bytes or not JSON, and
        ClusterUnavailable when the database cannot be reached (after one reconnection);
        this engine's subscribers have it either way."""
        message = Message(topic, dict(payload), self._engine_id)
        try:
            text = envelope(message)
        except (TypeError, ValueError) as error:
            raise InvalidInput(f"bus message on {topic} is not JSON: {error}") from None
        size = len(text.encode())
        if size > MAX_BODY:
            raise InvalidInput(
                f"bus message on {topic} is {size} bytes; the bus carries at most {MAX_BODY}"
            )
        self._subscribers.deliver(message)
        async with self._publishing:
            for attempt in (1, 2):
                try:
                    await self._deadline(self._send(text, size))
                    return
                except LOST as error:
                    await self._drop_publisher()
                    if attempt == 2:
                        raise ClusterUnavailable(
                            f"The other engines cannot be reached: {error}".strip()
                        ) from None

    async def _send(self, text: str, size: int) -> None:
        conn = await self._publisher_connection()
        if size <= NOTIFY_LIMIT:
            await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, text))
            return
        async with conn.transaction():
            cursor = await conn.execute(
                "INSERT INTO bus_messages (body) VALUES (%s) RETURNING id", (text,)
            )
            row = await cursor.fetchone()
            assert row is not None
            pointer = json.dumps({"o": self._engine_id, "id": row["id"]})
            await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, pointer))

    async def _publisher_connection(self) -> Connection:
        if self._publisher is None or self._publisher.closed:
            self._publisher = await connect(self._dsn, f"phonebank bus {self._engine_id}")
        return self._publisher

    async def run(self) -> None:
        listener: Connection | None = None
        failures = 0
        try:
            while True:
                try:
                    listener = await connect(self._dsn, f"phonebank listen {self._engine_id}")
                    await listener.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    log.info("bus %s: listening", self._engine_id)
                    failures = 0
                    await self._listen(listener)
                except LOST as error:
                    self.listening.clear()
                    failures += 1
                    (log.warning if failures % 60 == 1 else log.debug)(
                        "bus %s: listener connection lost (%s); reconnecting (messages sent"
                        " meanwhile are missed)",
                        self._engine_id,
                        str(error).strip() or type(error).__name__,
                    )
                    await close_quietly(listener)
                    listener = None
                    await asyncio.sleep(self._retry_s)
        finally:
            self.listening.clear()
            await close_quietly(listener)
            await close_quietly(self._publisher)

    async def _listen(self, listener: Connection) -> None:
        while True:
            async for notice in listener.notifies(timeout=KEEP_ROWS_S / 2):
                await self._receive(notice.payload)
            await self._forget_old_rows()

    async def _receive(self, text: str) -> None:
        """Hand a notification to the subscribers; one that is not a bus message (someone
        else's NOTIFY on our channel) is logged and skipped."""
        try:
            body = json.loads(text)
            if body.get("o") == self._engine_id:
                return  # ours: our subscribers had it when we published it
            if "id" in body:
                fetched = await self._fetch(int(body["id"]))
                if fetched is None:
                    return
                text = fetched
            message = opened(text)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            log.warning("bus %s: skipped a malformed notification (%r)", self._engine_id, error)
            return
        self._subscribers.deliver(message)

    async def _fetch(self, row_id: int) -> str | None:
        """A large message's envelope, read on the publisher connection (the listener's is
        busy waiting)."""
        async with self._publishing:
            try:
                row = await self._deadline(self._read(row_id))
            except LOST as error:
                log.warning("bus %s: could not read message %s: %s", self._engine_id, row_id, error)
                await self._drop_publisher()
                return None
        if row is None:
            log.warning(
                "bus %s: message %s was deleted before it was read", self._engine_id, row_id
            )
            return None
        return str(row["body"])

    async def _read(self, row_id: int) -> dict[str, Any] | None:
        conn = await self._publisher_connection()
        cursor = await conn.execute("SELECT body FROM bus_messages WHERE id = %s", (row_id,))
        return await cursor.fetchone()

    async def _delete_old_rows(self) -> None:
        conn = await self._publisher_connection()
        await conn.execute(
            "DELETE FROM bus_messages WHERE created_at < now() - make_interval(secs => %s)",
            (KEEP_ROWS_S,),
        )

    async def _forget_old_rows(self) -> None:
        try:
            async with self._publishing:
                await self._deadline(self._delete_old_rows())
        except LOST as error:
            log.warning("bus %s: could not delete old messages: %s", self._engine_id, error)
            await self._drop_publisher()

    async def _drop_publisher(self) -> None:
        """Close the publisher connection after an error; the next use opens a new one."""
        await close_quietly(self._publisher)
        self._publisher = None
