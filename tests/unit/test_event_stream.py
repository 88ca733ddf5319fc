"""The one live-events WebSocket loop (web/event_stream.py), on a bare app: what it sends,
when it closes, and the limits it keeps."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

from engine.notifier import Event
from tests.helpers import wait_until
from web import event_stream, operator_sockets
from web.appkeys import OPERATOR_SOCKETS, SOCKET_COUNTS, WEBSOCKETS
from web.errors import Unauthorized, error_middleware
from web.event_stream import EventStream, Revocable, close_all, serve_events
from web.operator_sockets import LOGGED_OUT, REVOKED, OperatorSockets
from web.socket_counts import Quota, SocketCounts

QUOTA = Quota("tester:1", 2, "tester")
Client = TestClient[web.Request, web.Application]


@dataclass
class Feed:
    """A notifier with one topic: the queues open now, and how often one was opened."""

    queues: list[asyncio.Queue[Event]] = field(default_factory=list)
    opened: int = 0

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self.queues.append(queue)
        self.opened += 1
        try:
            yield queue
        finally:
            self.queues.remove(queue)

    def publish(self, event: Event) -> None:
        for queue in self.queues:
            queue.put_nowait(event)


@dataclass
class Harness:
    """An app serving one events socket at /events whose stream the test shapes."""

    feed: Feed = field(default_factory=Feed)
    snapshot: Mapping[str, Any] | None = None
    last: Callable[[Event], bool] = event_stream.never
    revocable: Revocable | None = None
    authenticated: int = 0
    refuse: bool = False

    async def authenticate(self, request: web.Request) -> EventStream:
        self.authenticated += 1
        if self.refuse:
            raise Unauthorized("sign in first")
        return EventStream(
            quota=QUOTA,
            subscribe=self.feed.subscribe,
            snapshot=self._snapshot if self.snapshot is not None else None,
            last=self.last,
            revocable=self.revocable,
        )

    async def _snapshot(self) -> Mapping[str, Any]:
        assert self.snapshot is not None
        return self.snapshot

    def app(self) -> web.Application:
        app = web.Application(middlewares=[error_middleware])
        app[WEBSOCKETS] = weakref.WeakSet()
        app[SOCKET_COUNTS] = SocketCounts()
        app[OPERATOR_SOCKETS] = OperatorSockets()
        app.on_shutdown.append(close_all)

        async def events(request: web.Request) -> web.WebSocketResponse:
            return await serve_events(request, self.authenticate)

        app.router.add_get("/events", events)
        return app


@pytest.fixture
def harness() -> Harness:
    return Harness()


@pytest.fixture
async def client(harness: Harness) -> AsyncIterator[Client]:
    async with TestClient(TestServer(harness.app())) as client:
        yield client


async def _closed(ws: aiohttp.ClientWebSocketResponse) -> tuple[int | None, str]:
    """Read until the server closes the socket; its close code and reason."""
    while True:
        message = await ws.receive(timeout=5)
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED):
            return ws.close_code, str(message.extra or "")


async def _until(condition: Callable[[], bool]) -> None:
    await wait_until(condition, timeout=5, interval=0.01)


async def test_the_snapshot_comes_first_then_each_published_event(
    harness: Harness, client: Client
) -> None:
    harness.snapshot = {"state": "ready"}
    async with client.ws_connect("/events") as ws:
        assert await ws.receive_json(timeout=5) == {"type": "snapshot", "state": "ready"}
        harness.feed.publish({"type": "session", "state": "on call"})
        assert await ws.receive_json(timeout=5) == {"type": "session", "state": "on call"}


async def test_without_a_snapshot_the_first_message_is_the_first_event(
    harness: Harness, client: Client
) -> None:
    async with client.ws_connect("/events") as ws:
        await _until(lambda: bool(harness.feed.queues))
        harness.feed.publish({"type": "call"})
        assert await ws.receive_json(timeout=5) == {"type": "call"}


async def test_the_socket_closes_after_sending_the_last_event(
    harness: Harness, client: Client
) -> None:
    harness.last = lambda event: event.get("type") == "over"
    async with client.ws_connect("/events") as ws:
        await _until(lambda: bool(harness.feed.queues))
        harness.feed.publish({"type": "over"})
        assert await ws.receive_json(timeout=5) == {"type": "over"}
        assert (await ws.receive(timeout=5)).type == WSMsgType.CLOSE


async def test_a_last_snapshot_is_sent_then_the_socket_closes(
    harness: Harness, client: Client
) -> None:
    """A session already over: its page still learns why."""
    harness.snapshot = {"state": "logged out"}
    harness.last = lambda event: event.get("state") == "logged out"
    async with client.ws_connect("/events") as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
        assert (await ws.receive(timeout=5)).type == WSMsgType.CLOSE


async def test_the_client_leaving_releases_its_count_and_subscription(
    harness: Harness, client: Client
) -> None:
    counts = client.app[SOCKET_COUNTS]
    ws = await client.ws_connect("/events")
    await _until(lambda: counts.open_count(QUOTA.key) == 1 and bool(harness.feed.queues))
    await ws.close()
    await _until(lambda: counts.open_count(QUOTA.key) == 0 and not harness.feed.queues)


async def test_one_socket_over_the_quota_is_refused_until_one_closes(
    harness: Harness, client: Client
) -> None:
    first = await client.ws_connect("/events")
    second = await client.ws_connect("/events")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/events")
    assert refused.value.status == 429
    assert refused.value.headers is not None and refused.value.headers["Retry-After"] == "30"
    assert harness.feed.opened == 2, "a refused socket subscribed"
    await first.close()
    await _until(lambda: client.app[SOCKET_COUNTS].open_count(QUOTA.key) == 1)
    third = await client.ws_connect("/events")
    await third.close()
    await second.close()


async def test_a_revoked_credential_closes_the_socket_with_1008(
    harness: Harness, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(operator_sockets, "CHECK_SECONDS", 0.05)
    valid = True

    async def still_valid() -> bool:
        return valid

    harness.revocable = Revocable("token:abc", still_valid)
    async with client.ws_connect("/events") as ws:
        await _until(lambda: bool(harness.feed.queues))
        await asyncio.sleep(0.1)
        assert not ws.closed
        valid = False
        assert await _closed(ws) == (WSCloseCode.POLICY_VIOLATION, REVOKED)


async def test_the_credentials_logout_closes_its_sockets_at_once(
    harness: Harness, client: Client
) -> None:
    async def still_valid() -> bool:
        return True

    harness.revocable = Revocable("token:abc", still_valid)
    async with client.ws_connect("/events") as ws:
        await _until(lambda: bool(harness.feed.queues))
        assert await client.app[OPERATOR_SOCKETS].close("token:abc") == 1
        assert await _closed(ws) == (WSCloseCode.POLICY_VIOLATION, LOGGED_OUT)
    await _until(lambda: client.app[SOCKET_COUNTS].open_count(QUOTA.key) == 0)


async def test_shutdown_closes_every_socket_as_going_away(harness: Harness, client: Client) -> None:
    async with client.ws_connect("/events") as ws:
        await _until(lambda: bool(harness.feed.queues))
        await close_all(client.app)
        code, _reason = await _closed(ws)
        assert code == WSCloseCode.GOING_AWAY


async def test_the_server_pings_every_heartbeat(
    harness: Harness, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_stream, "HEARTBEAT_SECONDS", 0.05)
    async with client.ws_connect("/events", autoping=False) as ws:
        assert (await ws.receive(timeout=5)).type == WSMsgType.PING


async def test_a_plain_http_request_is_400(harness: Harness, client: Client) -> None:
    response = await client.get("/events")
    assert response.status == 400
    assert (await response.json())["error"]["message"] == event_stream.NOT_A_WEBSOCKET
    assert harness.feed.opened == 0


async def test_another_sites_page_is_refused_before_authenticating(
    harness: Harness, client: Client
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/events", headers={"Origin": "https://evil.example"})
    assert refused.value.status == 403
    assert harness.authenticated == 0


async def test_a_caller_authentication_refuses_is_answered_before_the_handshake(
    harness: Harness, client: Client
) -> None:
    harness.refuse = True
    response = await client.get("/events", headers={"Upgrade": "websocket"})
    assert response.status == 401
    assert harness.feed.opened == 0
