"""A fake Asterisk ARI: a real aiohttp app on a free 127.0.0.1 port for fast engine tests.

    async with FakeAri() as fake:
        async with AriClient.connect(fake.settings()) as ari:
            fake.respond("POST", "/channels/c1/answer", status=404, body={"message": "gone"})
            await fake.push_event({"type": "StasisStart", "channel": {"id": "c1"}})
            await wait_until(lambda: fake.requests_to("POST", "/channels"), 2.0)

Paths given to and recorded by the fake are relative to /ari, as in the client.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any

from aiohttp import BasicAuth, WSCloseCode, web
from multidict import MultiDict

from engine.ari import AriSettings
from tests.helpers import wait_until

INFO = {"system": {"version": "22.0.0", "entity_id": "fake"}, "status": {}, "config": {}}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # relative to /ari and decoded, e.g. "/channels/c1/answer"
    query: MultiDict[str]  # use .getall() for repeated parameters such as media
    json: Any  # the decoded JSON body, or None
    raw_path: str  # as sent, percent-encoding kept, e.g. "/ari/channels/a%2Fb"


@dataclass(frozen=True)
class Canned:
    status: int = 200
    body: Any = None
    delay: float = 0.0


class FakeAri:
    """Records every REST request, serves canned answers, and drives the events websocket."""

    def __init__(self, *, username: str = "phonebank", password: str = "secret") -> None:
        self.username = username
        self.password = password
        self.requests: list[RecordedRequest] = []
        self.websocket_queries: list[MultiDict[str]] = []  # one per accepted events connection
        self.refuse_websockets = False  # True: answer new events connections with HTTP 503
        self.in_flight = 0
        self.max_in_flight = 0  # peak number of REST requests being handled at once
        self.port = 0
        self._canned: dict[tuple[str, str], Canned] = {}
        self._sockets: list[tuple[web.Request, web.WebSocketResponse]] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self, app: str = "phonebank", **overrides: Any) -> AriSettings:
        fields: dict[str, Any] = {
            "url": self.url,
            "username": self.username,
            "password": self.password,
            "app": app,
        }
        return AriSettings(**(fields | overrides))

    def respond(
        self, method: str, path: str, *, status: int = 200, body: Any = None, delay: float = 0.0
    ) -> None:
        """Answer every later `method` `path` with `status` and JSON `body` after `delay` s."""
        self._canned[(method.upper(), path)] = Canned(status, body, delay)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method.upper() and r.path == path]

    @property
    def connected_websockets(self) -> int:
        return len(self._sockets)

    async def push_event(self, event: dict[str, Any]) -> None:
        """Send `event` to every connected events websocket (there must be at least one)."""
        if not self._sockets:
            raise AssertionError("no ARI events websocket is connected")
        for _, socket in list(self._sockets):
            await socket.send_json(event)

    async def drop_websockets(self, *, abrupt: bool = True) -> None:
        """Cut every events connection as an Asterisk restart does; abrupt: no close frame."""
        for request, socket in list(self._sockets):
            if abrupt and request.transport is not None:
                request.transport.close()
            else:
                await socket.close(code=WSCloseCode.SERVICE_RESTART)
        await wait_until(lambda: not self._sockets, 2.0, "events websockets to close", 0.01)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/ari/events", self._events)
        app.router.add_route("*", "/ari/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        for _, socket in list(self._sockets):
            await socket.close(code=WSCloseCode.GOING_AWAY)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeAri:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _authorized(self, request: web.Request) -> bool:
        try:
            auth = BasicAuth.decode(request.headers.get("Authorization", ""))
        except ValueError:
            return False
        return (auth.login, auth.password) == (self.username, self.password)

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.json_response({"message": "Authentication required"}, status=401)
        body = await request.json() if request.body_exists else None
        method, path = request.method, "/" + request.match_info["tail"]
        self.requests.append(
            RecordedRequest(method, path, MultiDict(request.query), body, request.rel_url.raw_path)
        )
        canned = self._canned.get((method, path)) or self._default(method, path, request.query)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(canned.delay)
        finally:
            self.in_flight -= 1
        if canned.status == 204:
            return web.Response(status=204)
        return web.json_response(canned.body, status=canned.status)

    def _default(self, method: str, path: str, query: Any) -> Canned:
        """Plausible answers so engine tests only configure what they care about."""
        if method == "GET" and path == "/asterisk/info":
            return Canned(body=INFO)
        if method == "GET" and path in ("/channels", "/bridges"):
            return Canned(body=[])
        if method == "PUT" and path.startswith("/asterisk/config/dynamic/"):
            return Canned(body=[])
        if method != "POST":
            return Canned(status=204)
        new_id = f"fake-{next(self._ids)}"
        if path == "/channels" or path.endswith("/snoop"):
            channel_id = query.get("channelId") or query.get("snoopId") or new_id
            return Canned(body={"id": channel_id, "name": f"fake/{channel_id}", "state": "Down"})
        if path == "/bridges":
            bridge_id = query.get("bridgeId", new_id)
            return Canned(body={"id": bridge_id, "bridge_type": query.get("type"), "channels": []})
        if path.endswith("/play"):
            return Canned(body={"id": query.get("playbackId", new_id), "state": "queued"})
        if path.endswith("/record"):
            return Canned(body={"name": query.get("name"), "state": "queued"})
        if path.startswith("/applications/"):
            return Canned(body={"name": path.split("/")[2], "event_sources": []})
        return Canned(status=204)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.json_response({"message": "Authentication required"}, status=401)
        if self.refuse_websockets:
            return web.json_response({"message": "Service Unavailable"}, status=503)
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.websocket_queries.append(MultiDict(request.query))
        entry = (request, socket)
        self._sockets.append(entry)
        try:
            async for _ in socket:
                pass
        finally:
            self._sockets.remove(entry)
        return socket
