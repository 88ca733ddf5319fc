"""Waiting for a condition with a deadline, never a bare sleep (tests, benches, demo)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any


async def wait_until(
    condition: Callable[[], Any],
    timeout: float = 10.0,
    what: str = "condition",
    interval: float = 0.05,
) -> Any:
    """Poll ``condition`` (sync or async) until it returns something truthy; return that.

    Raises AssertionError naming ``what`` when ``timeout`` seconds pass first, also when an
    async ``condition`` itself never returns (a page script whose promise never settles).
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            try:
                async with asyncio.timeout(max(interval, deadline - time.monotonic())):
                    result = await result
            except TimeoutError:
                raise AssertionError(
                    f"timed out after {timeout:.1f} s waiting for {what}"
                ) from None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}")
        await asyncio.sleep(interval)
