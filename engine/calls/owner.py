"""One owner per call: a call's events and steps run one after another in its own task.

Everything that changes a call (its ARI events, the answer, a volunteer found or not, the
volunteer letting go) is posted to the call's owner as a job; jobs run in the order posted,
so no two of them ever interleave on one call (panoramisk's queue per call). Waiting that
must not hold the call up (the 2-second search for a volunteer, a message playing before the
hang-up) runs beside it and posts what it found. The task ends when no job is left and is
made again by the next one.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from engine.errors import AriError

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[], Awaitable[None]]


class Tasks:
    """The tasks of a kind of call (owners and their helpers), so they end with the engine."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    async def close(self) -> None:
        """Cancel every task and wait for them to end."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class CallOwner:
    def __init__(self, name: str, tasks: Tasks) -> None:
        self.name = name
        self._tasks = tasks
        self._jobs: collections.deque[Job] = collections.deque()
        self._task: asyncio.Task[Any] | None = None

    def post(self, job: Job) -> None:
        """Run `job` after the jobs already posted; never waits. A job's AriError is logged
        as a warning, anything else as an error: it never reaches the poster."""
        self._jobs.append(job)
        if self._task is None:
            self._task = self._tasks.start(self._drain(), f"call {self.name}")

    async def run(self, job: Callable[[], Awaitable[T]]) -> T:
        """Run `job` in turn and return its result (or raise its exception). From inside one
        of this call's own jobs it runs at once (it would otherwise wait for itself)."""
        if self._task is not None and asyncio.current_task() is self._task:
            return await job()
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()

        async def step() -> None:
            try:
                result = await job()
            except Exception as exc:
                if not done.done():
                    done.set_exception(exc)
            except asyncio.CancelledError:
                done.cancel()
                raise
            else:
                if not done.done():
                    done.set_result(result)

        self.post(step)
        return await done

    async def _drain(self) -> None:
        try:
            while self._jobs:
                job = self._jobs.popleft()
                try:
                    await job()
                except AriError as exc:
                    log.warning("call %s: ARI error: %s", self.name, exc)
                except Exception:
                    log.exception("call %s: a step failed", self.name)
        finally:
            # No await between the empty check and here: post() cannot slip a job into a
            # queue that nobody drains.
            self._task = None
