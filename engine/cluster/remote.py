"""Request/reply over the bus: a web action on a session whose node another engine drives
(``RemoteCalls.call(node, action, args, timeout)``) is served by the engine that owns the
node (``NodeActions``, with a handler per action). Errors cross over by name: a handler's
NotFound or InvalidInput is raised as the same class to the caller, so the web answers as if
the action had run locally; anything else is RemoteCallFailed. A node nobody owns (an engine
taking over) or an engine that does not answer in time: RemoteCallFailed after ``timeout``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from engine import errors
from engine.cluster.bus import Bus, Message
from engine.errors import PhonebankError, RemoteCallFailed

log = logging.getLogger(__name__)

REQUESTS = "call"
REPLIES = "reply"

Handler = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
"""``handler(node, args)`` does the action on the node and returns the reply."""


def _error(kind: str, message: str) -> PhonebankError:
    """The caller's exception for an error reply: the same engine.errors class if there is one."""
    cls = getattr(errors, kind, None)
    if (
        isinstance(cls, type)
        and issubclass(cls, PhonebankError)
        and cls.__init__ is Exception.__init__
    ):
        return cls(message)
    return RemoteCallFailed(message)


def _well_formed(request: Mapping[str, Any]) -> bool:
    return (
        isinstance(request.get("id"), str)
        and isinstance(request.get("action"), str)
        and isinstance(request.get("args"), dict)
    )


class RemoteCalls:
    """The caller's side: run() receives the replies to this engine."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ready = asyncio.Event()

    async def run(self) -> None:
        with self._bus.subscribe(REPLIES) as replies:
            self._ready.set()
            try:
                while True:
                    self._settle(await replies.get())
            finally:
                self._ready.clear()

    def _settle(self, message: Message) -> None:
        reply = message.payload
        if reply.get("to") != self._bus.engine_id:
            return
        future = self._pending.pop(str(reply.get("id")), None)
        if future is None or future.done():
            return  # answered already, or given up on
        try:
            if "error" in reply:
                future.set_exception(_error(reply["error"]["kind"], reply["error"]["message"]))
            else:
                future.set_result(dict(reply["result"]))
        except (KeyError, TypeError, ValueError) as error:
            future.set_exception(RemoteCallFailed(f"A malformed reply came back ({error!r})."))

    async def call(
        self, node: str, action: str, args: Mapping[str, Any], timeout: float
    ) -> dict[str, Any]:
        """The owner's reply. Raises RemoteCallFailed when nobody answers within ``timeout``
        seconds or the action failed, or the engine.errors class the handler raised."""
        request_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        request = {"id": request_id, "node": node, "action": action, "args": dict(args)}
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()
                await self._bus.publish(REQUESTS, request)
                return await future
        except TimeoutError:
            raise RemoteCallFailed(
                f"No engine answered {action} on node {node} within {timeout:g} s: the node"
                " may be changing hands; try again in a few seconds."
            ) from None
        finally:
            self._pending.pop(request_id, None)


class NodeActions:
    """The owner's side: serves requests for the nodes ``owned()`` returns, each in a task."""

    def __init__(
        self, bus: Bus, owned: Callable[[], Collection[str]], handlers: Mapping[str, Handler]
    ) -> None:
        self._bus, self._owned, self._handlers = bus, owned, dict(handlers)

    async def run(self) -> None:
        with self._bus.subscribe(REQUESTS) as requests:
            async with asyncio.TaskGroup() as tasks:
                while True:
                    message = await requests.get()
                    if message.payload.get("node") not in self._owned():
                        continue
                    if not _well_formed(message.payload):
                        log.warning("remote: skipped a malformed request from %s", message.origin)
                        continue
                    tasks.create_task(self._serve(message))

    async def _serve(self, message: Message) -> None:
        request = message.payload
        reply: dict[str, Any] = {"to": message.origin, "id": request["id"]}
        handler = self._handlers.get(request["action"])
        try:
            if handler is None:
                raise RemoteCallFailed(f"Node {request['node']} has no action {request['action']}.")
            reply["result"] = await handler(request["node"], request["args"])
        except PhonebankError as error:
            reply["error"] = {"kind": type(error).__name__, "message": str(error)}
        except Exception:
            log.exception("remote: %s on node %s failed", request["action"], request["node"])
            reply["error"] = {
                "kind": "RemoteCallFailed",
                "message": f"{request['action']} on node {request['node']} failed; see the log.",
            }
        try:
            await self._bus.publish(REPLIES, reply)
        except PhonebankError as error:
            log.warning("remote: the reply to %s did not go out: %s", request["action"], error)
