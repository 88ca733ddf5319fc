"""One owner per call (engine/calls/owner.py): a call's jobs run one at a time, in order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from engine.calls.owner import CallOwner, Tasks
from engine.errors import AriNotFound


async def test_jobs_run_one_at_a_time_in_the_order_posted() -> None:
    tasks = Tasks()
    owner = CallOwner("c1", tasks)
    seen: list[str] = []

    def job(name: str, delay: float) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            seen.append(f"{name} start")
            await asyncio.sleep(delay)
            seen.append(f"{name} end")

        return run

    owner.post(job("slow", 0.05))
    owner.post(job("fast", 0.0))

    async def nothing() -> None:
        return None

    await owner.run(nothing)
    assert seen == ["slow start", "slow end", "fast start", "fast end"]
    await tasks.close()


async def test_run_returns_the_result_or_raises_the_error_of_its_job() -> None:
    tasks = Tasks()
    owner = CallOwner("c1", tasks)

    async def answer() -> int:
        return 42

    async def fail() -> int:
        raise ValueError("no")

    assert await owner.run(answer) == 42
    with pytest.raises(ValueError, match="no"):
        await owner.run(fail)
    assert await owner.run(answer) == 42  # the owner carries on after a failed job
    await tasks.close()


async def test_a_job_may_run_another_step_of_its_own_call_without_waiting_for_itself() -> None:
    tasks = Tasks()
    owner = CallOwner("c1", tasks)

    async def inner() -> str:
        return "inner"

    async def outer() -> str:
        return await owner.run(inner)

    assert await asyncio.wait_for(owner.run(outer), 1) == "inner"
    await tasks.close()


async def test_a_posted_jobs_error_is_logged_and_never_stops_the_next(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = Tasks()
    owner = CallOwner("c1", tasks)
    done = asyncio.Event()

    async def gone() -> None:
        raise AriNotFound("channel not found")

    async def broken() -> None:
        raise RuntimeError("bug")

    async def last() -> None:
        done.set()

    with caplog.at_level(logging.WARNING):
        owner.post(gone)
        owner.post(broken)
        owner.post(last)
        await asyncio.wait_for(done.wait(), 1)
    assert "call c1: ARI error" in caplog.text
    assert "call c1: a step failed" in caplog.text
    await tasks.close()


async def test_closing_cancels_the_jobs_in_flight() -> None:
    tasks = Tasks()
    owner = CallOwner("c1", tasks)
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.sleep(3600)

    owner.post(forever)
    await asyncio.wait_for(started.wait(), 1)
    await asyncio.wait_for(tasks.close(), 1)
