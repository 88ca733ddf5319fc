"""A small, typed client for Asterisk's REST Interface (ARI) and its events websocket.

Use it as ``async with AriClient.connect(settings) as ari:``; the context manager owns the
HTTP session and the EventStream (events.py) whose one long-lived task reads events, so nothing
outlives it. The REST endpoints are the typed wrappers it inherits, one module per ARI resource
(channels.py, bridges.py, media.py, asterisk.py), all sending through one AriRest (rest.py).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
from yarl import URL

from engine.ari.asterisk import Asterisk
from engine.ari.bridges import Bridges
from engine.ari.channels import Channels
from engine.ari.events import DISCONNECTED as DISCONNECTED
from engine.ari.events import RECONNECTED as RECONNECTED
from engine.ari.events import EventStream
from engine.ari.media import Media
from engine.ari.media import TargetKind as TargetKind
from engine.ari.rest import AriRest, Json, json_object
from engine.ari.rest import segment as _seg
from engine.ari.settings import AriSettings as AriSettings
from engine.errors import AriError, AriNotFound, ConfigError

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 10
"""Asterisk's HTTP server keeps only ~10 pending connections; more queue for a 1 s SYN retry.
All of them serve REST requests: the events websocket has its own session."""

_HTTP_TIMEOUT = aiohttp.ClientTimeout(total=8.0, sock_connect=3.0)
"""A frozen Asterisk (SIGSTOP) accepts connections and never answers: every request gives up
after 8 s (AriUnavailable) rather than hanging the engine. Asterisk answers in milliseconds."""


class AriClient(Channels, Bridges, Media, Asterisk):
    """Thin wrappers over the ARI endpoints phonebank uses, and the events of one Stasis app.

    Every request method raises AriNotFound (HTTP 404, usually a hangup race),
    AriUnauthorized (401), AriUnavailable (Asterisk unreachable) or AriError (anything else).
    """

    def __init__(
        self, settings: AriSettings, session: aiohttp.ClientSession, reconnect_max_delay: float
    ) -> None:
        rest = AriRest(settings, session)
        super().__init__(rest)
        self._settings = settings
        self._session = session
        self._stream = EventStream(
            settings,
            rest.base,
            reconnect_max_delay,
            http_error=rest.error,
            unreachable=rest.unavailable,
        )

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls, settings: AriSettings, *, reconnect_max_delay: float = 5.0
    ) -> AsyncIterator[AriClient]:
        """Check ARI answers, open the events websocket, and yield a connected client.

        Raises AriUnauthorized, AriUnavailable or AriError when Asterisk cannot be used,
        and ConfigError for a malformed URL or username.
        """
        if URL(settings.url).scheme not in ("http", "https"):
            raise ConfigError(f"ARI url {settings.url!r} must start with http:// or https://.")
        if ":" in settings.username:
            raise ConfigError(f"ARI username {settings.username!r} must not contain ':'.")
        if reconnect_max_delay <= 0:
            raise ValueError("reconnect_max_delay must be positive")
        auth = aiohttp.encode_basic_auth(settings.username, settings.password)
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS),
            headers={"Authorization": auth},
            timeout=_HTTP_TIMEOUT,
        )
        client = cls(settings, session, reconnect_max_delay)
        try:
            await client._start()
            yield client
        finally:
            await client._close()

    @property
    def app(self) -> str:
        """The Stasis application this client receives events for (originate targets it)."""
        return self._settings.app

    @property
    def connected(self) -> bool:
        """True while the events websocket is open."""
        return self._stream.connected

    @property
    def reconnects(self) -> int:
        """How many times the events websocket came back after being lost (for /metrics)."""
        return self._stream.reconnects

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the events websocket is open; raises AriUnavailable after `timeout` s."""
        await self._stream.wait_connected(timeout)

    def events(self) -> AsyncIterator[Json]:
        """Yield ARI events in order, plus {"type": DISCONNECTED, "reason": ...} when the
        websocket is lost and {"type": RECONNECTED} after each reconnect.

        Ends when the client closes; raises AriError if the reader task crashed.
        Meant for one consumer.
        """
        return self._stream.events()

    async def subscribe(self, event_source: str) -> Json:
        """Subscribe our app to e.g. "channel:ID", "bridge:ID" or "endpoint:PJSIP/100"."""
        path = f"/applications/{_seg(self._settings.app)}/subscription"
        params = {"eventSource": event_source}
        return json_object(await self._rest.request("POST", path, params=params))

    async def unsubscribe(self, event_source: str) -> Json:
        """Undo subscribe(); Asterisk keeps an app's subscriptions after its websocket closes."""
        path = f"/applications/{_seg(self._settings.app)}/subscription"
        params = {"eventSource": event_source}
        return json_object(await self._rest.request("DELETE", path, params=params))

    # --- lifetime -----------------------------------------------------------------------

    async def _start(self) -> None:
        try:
            await self.info()
        except AriNotFound as exc:
            raise AriError(
                f"{self._settings.url} answered but has no ARI at /ari: enable ARI in"
                " http.conf and ari.conf."
            ) from exc
        if self._settings.app:
            await self._stream.start()
        log.info("connected to Asterisk ARI at %s as app %r", self._rest.base, self._settings.app)

    async def _close(self) -> None:
        try:
            await self._stream.close()
        finally:
            await self._session.close()
