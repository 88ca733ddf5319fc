"""The one thread that runs every SQLite call of a store, so the event loop never waits on disk.

Why a dedicated single-thread executor (and not asyncio.to_thread with a lock):
- one connection, one thread: the connection is only ever used by this thread while the store
  is open, so no two statements of different callers interleave inside a transaction;
- calls run in the order they were queued (FIFO), so the calls of one task keep their order
  and close() can wait for everything queued before it just by queueing itself last;
- the default executor (asyncio.to_thread) is shared with other blocking work (DNS lookups,
  password hashing): a burst there would delay the store, and a lock would only move the
  queue onto the event loop;
- a store call cannot be interleaved with another inside SQLite: each method is one unit of
  work (one BEGIN IMMEDIATE transaction for writes), as when it ran on the loop.

What callers must know: a store call now lets other tasks run while it waits, so two calls
in a row are no longer one atomic step. Code that reads a state and then acts on it must hold
its own guard across the calls (the dialer and preview hold a session in
OutboundCalls.reserved), or let one store method do both in one transaction (as claim_voters
does).

A call cancelled while queued never runs; one cancelled while running still completes (a
transaction commits or rolls back as a whole) and its result is dropped, as if the
cancellation had landed just after the call returned.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


class SqliteWorker:
    """Runs functions one at a time, in queue order, on its own thread."""

    def __init__(self, name: str = "sqlite") -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    async def run(self, work: Callable[[], T]) -> T:
        """Queue ``work`` and wait for its result (or exception). RuntimeError once closed."""
        if self._closed:
            raise RuntimeError("the store is closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    async def close(self, last: Callable[[], None]) -> None:
        """Run ``last`` after everything already queued, then stop the thread. Idempotent."""
        if self._closed:
            return
        self._closed = True  # later calls fail at once; those queued run before ``last``
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, last)
        finally:
            self._executor.shutdown(wait=False)


class HasWorker(Protocol):
    @property
    def worker(self) -> SqliteWorker: ...


S = TypeVar("S", bound=HasWorker)


def on_worker(
    method: Callable[Concatenate[S, P], T],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """Turn a synchronous store method into a coroutine method that runs it on the store's
    worker thread. The synchronous body must not call other decorated methods (it would get
    a coroutine, not a result): it uses the plain helpers (``_get``, ``_all``...) instead."""

    @functools.wraps(method)
    async def queued(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.worker.run(functools.partial(method, self, *args, **kwargs))

    return queued
