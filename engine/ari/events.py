"""The ARI events websocket: one reader task that reconnects with backoff and queues events.

AriClient owns one EventStream and exposes it as ``connected``, ``wait_connected()`` and
``events()``. The stream has its own HTTP session, so the websocket never takes one of the
REST pool's connections.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from yarl import URL

from engine.ari.settings import AriSettings
from engine.errors import AriError, AriUnavailable

log = logging.getLogger(__name__)

RECONNECTED = "PhonebankReconnected"
"""Type of the synthetic event put into ``events()`` after the websocket comes back."""
DISCONNECTED = "PhonebankDisconnected"
"""Type of the synthetic event put into ``events()`` as soon as the websocket is lost (with
its ``reason``): Asterisk died, restarts or stopped answering pings."""

_FIRST_RETRY_S = 0.1
_STABLE_AFTER_S = 10.0  # a connection that lived this long resets the backoff
_HEARTBEAT_S = 4.0
"""A ping every 4 s, closed when no pong comes within 2 s: a frozen Asterisk (SIGSTOP, a hung
host) is noticed within ~6 s, and dialing is held until it answers again."""
_HANDSHAKE_TIMEOUT = aiohttp.ClientTimeout(total=30.0, sock_connect=5.0)
_WS_TIMEOUT = aiohttp.ClientWSTimeout(ws_close=2.0)
_CLOSED = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED)
_PATH = "/events"

Json = dict[str, Any]
HttpError = Callable[[str, str, int, Any], AriError]
"""Builds the error for (method, path, status, body): AriRest.error."""
Unreachable = Callable[[str, str, BaseException], AriUnavailable]
"""Builds the error for (method, path, exception): AriRest.unavailable."""


class EventStream:
    """The /ari/events websocket of one Stasis app, read by one task into one queue."""

    def __init__(
        self,
        settings: AriSettings,
        base: str,
        max_delay: float,
        *,
        http_error: HttpError,
        unreachable: Unreachable,
    ) -> None:
        self._settings = settings
        self._max_delay = max_delay
        self._http_error = http_error
        self._unreachable = unreachable
        scheme = "wss" if URL(base).scheme == "https" else "ws"
        self._url = URL(base + _PATH).with_scheme(scheme)
        self._queue: asyncio.Queue[Json | None] = asyncio.Queue()
        self._connected = asyncio.Event()
        auth = aiohttp.encode_basic_auth(settings.username, settings.password)
        self._session = aiohttp.ClientSession(
            headers={"Authorization": auth}, timeout=_HANDSHAKE_TIMEOUT
        )
        self._reader: asyncio.Task[None] | None = None
        self._websocket: aiohttp.ClientWebSocketResponse | None = None
        self._failure: BaseException | None = None
        self._reconnects = 0

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def reconnects(self) -> int:
        """How many times the websocket came back after being lost."""
        return self._reconnects

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the websocket is open; raises AriUnavailable after `timeout` s."""
        try:
            async with asyncio.timeout(timeout):
                await self._connected.wait()
        except TimeoutError:
            raise AriUnavailable(
                f"the ARI events websocket {self._url} is still down after {timeout} s"
            ) from None

    async def events(self) -> AsyncIterator[Json]:
        """Yield queued events until close(); raises AriError if the reader task crashed."""
        while True:
            event = await self._queue.get()
            if event is None:
                if self._failure is not None:
                    raise AriError(
                        f"the ARI event reader failed: {self._failure!r}"
                    ) from self._failure
                return
            yield event

    async def start(self) -> None:
        """Open the websocket and start the reader task.

        Raises AriUnauthorized, AriUnavailable or AriError when the websocket cannot be opened;
        call close() afterwards in every case.
        """
        self._websocket = websocket = await self._open()
        self._connected.set()
        self._reader = asyncio.create_task(self._read(websocket), name="ari-events")

    async def close(self) -> None:
        """Stop the reader, close the websocket and its session, and end events()."""
        try:
            if self._reader is not None:
                self._reader.cancel()
                try:
                    await self._reader
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise
        finally:
            # A reader cancelled before its first step runs no finally: close and end events() here.
            try:
                if self._websocket is not None:
                    await self._websocket.close()
                self._queue.put_nowait(None)
            finally:
                await self._session.close()

    async def _open(self) -> aiohttp.ClientWebSocketResponse:
        subscribe_all = "true" if self._settings.subscribe_all else "false"
        params = {"app": self._settings.app, "subscribeAll": subscribe_all}
        try:
            return await self._session.ws_connect(
                self._url, params=params, heartbeat=_HEARTBEAT_S, timeout=_WS_TIMEOUT
            )
        except aiohttp.WSServerHandshakeError as exc:
            raise self._http_error("GET", _PATH, exc.status, exc.message) from exc
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise self._unreachable("GET", _PATH, exc) from exc
        except aiohttp.ClientError as exc:
            raise AriError(f"ARI events websocket at {self._url} failed: {exc!r}") from exc

    async def _read(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        """Pump events forever, reconnecting with exponential backoff when the socket drops."""
        delay = first_delay = min(_FIRST_RETRY_S, self._max_delay)
        try:
            while True:
                opened = time.monotonic()
                reason = await self._pump(websocket)
                self._connected.clear()
                log.warning("ARI events websocket %s lost (%s); reconnecting", self._url, reason)
                self._queue.put_nowait({"type": DISCONNECTED, "reason": reason})
                if time.monotonic() - opened >= _STABLE_AFTER_S:
                    delay = first_delay
                websocket, delay = await self._reconnect(delay)
                self._websocket = websocket
                self._reconnects += 1
                self._connected.set()
                log.info("ARI events websocket %s is back", self._url)
                self._queue.put_nowait({"type": RECONNECTED})
        except Exception as exc:
            log.exception("ARI event reader for %s crashed", self._url)
            self._failure = exc
            self._queue.put_nowait(None)
        finally:
            self._connected.clear()

    async def _pump(self, websocket: aiohttp.ClientWebSocketResponse) -> str:
        """Queue events until the socket closes; return why it closed."""
        try:
            while True:
                message = await websocket.receive()
                if message.type is aiohttp.WSMsgType.TEXT:
                    self._deliver(message.data)
                elif message.type is aiohttp.WSMsgType.ERROR:
                    return f"error: {websocket.exception()!r}"
                elif message.type in _CLOSED:
                    return f"closed, code {websocket.close_code}"
        finally:
            await websocket.close()

    async def _reconnect(self, delay: float) -> tuple[aiohttp.ClientWebSocketResponse, float]:
        while True:
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_delay)
            try:
                return await self._open(), delay
            except AriError as exc:
                log.debug("ARI events reconnect failed (%s); next try in %.1f s", exc, delay)

    def _deliver(self, text: str) -> None:
        log.debug("ARI event: %s", text)
        try:
            event = json.loads(text)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            log.warning("ignoring an ARI event that is not a JSON object: %.200s", text)
            return
        self._queue.put_nowait(event)
