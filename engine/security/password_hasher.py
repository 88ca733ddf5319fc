"""Password hashing off the event loop: scrypt in a small pool of low-priority threads.

scrypt is slow on purpose (~50-100 ms and 16 MB per hash). Run on the event loop it stalls
every call and request; hashlib.scrypt releases the GIL, so a thread pool lets the loop run on.
The pool is sized to leave a core for the loop and Asterisk, its threads run at a lower CPU
priority where the OS allows it, and at most ``max_waiting`` hashes may queue: beyond that the
caller is told the server is busy (a ceiling on the work anonymous requests can queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from engine.errors import RateLimited
from engine.security import credentials

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_WAITING = 64
"""Hashes that may wait for a worker; more are refused as 'busy'."""
BUSY_RETRY_SECONDS = 5.0
DUMMY_HASH = (
    "scrypt$16384$8$1$6f1e1ec20b9bc8a9f10889d9516d1525$"
    "64d9ab4d916e4916eab68a7cec723dc17abe24389918b51899e10b5c689c5571"
)
"""A hash with credentials' scrypt parameters that no password matches, checked for accounts
that do not exist (made once with hash_secret; a test keeps its parameters current)."""
REFUSAL_LOG_SECONDS = 10.0
"""At most one warning about refusals this often."""
WORKER_NICENESS = 10
"""How much lower than the process the hashing threads run (Linux nice increment)."""


def default_workers() -> int:
    """One worker per core, less one kept for the event loop and Asterisk (at least one)."""
    return max(1, (os.cpu_count() or 1) - 1)


def _lower_priority() -> None:
    """Runs in each new worker thread: lower its CPU priority (Linux: per thread)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICENESS)


class PasswordHasher:
    """Hash and verify secrets in worker threads, with bounded concurrency and queue.

    ``inline=True`` hashes on the calling thread (the event loop): only for measuring what the
    pool saves (bench/signup_flood.py --inline).
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        max_waiting: int = MAX_WAITING,
        inline: bool = False,
        hash_secret: Callable[[str], str] = credentials.hash_secret,
        verify_secret: Callable[[str, str], bool] = credentials.verify_secret,
    ) -> None:
        self.workers = workers or default_workers()
        self.max_waiting = max_waiting
        self.inline = inline
        self._hash_secret = hash_secret
        self._verify_secret = verify_secret
        self._executor: ThreadPoolExecutor | None = None
        self._pending = 0
        self.hashes = 0
        """Hashes computed so far (new secrets)."""
        self.verifications = 0
        """Verifications computed so far, dummy ones included."""
        self.refused = 0
        """Requests refused as busy so far."""
        self._quiet_until = 0.0

    @property
    def pending(self) -> int:
        """Hashes and verifications queued or running now."""
        return self._pending

    async def hash(self, secret: str) -> str:
        """A salted scrypt hash of ``secret``. Raises RateLimited when too many are queued."""
        self.hashes += 1
        return await self._run(self._hash_secret, secret)

    async def verify(self, secret: str, hashed: str) -> bool:
        """Whether ``secret`` matches ``hashed``. Raises RateLimited when too many are queued,
        InvalidInput for a corrupt hash."""
        self.verifications += 1
        return await self._run(self._verify_secret, secret, hashed)

    async def verify_dummy(self, secret: str) -> None:
        """Spend the time a real verification takes, for an account that does not exist, so
        the answer's timing does not tell whether it does."""
        await self.verify(secret, DUMMY_HASH)

    def close(self) -> None:
        """Stop the worker threads (waiting for none); later calls start a new pool."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def _run(self, fn: Callable[..., T], *args: str) -> T:
        if self.inline:
            return fn(*args)
        if self._pending >= self.max_waiting + self.workers:
            self.refused += 1
            now = time.monotonic()
            if now >= self._quiet_until:
                self._quiet_until = now + REFUSAL_LOG_SECONDS
                log.warning(
                    "password hashing: %d already queued; refusing more (%d refused so far)",
                    self._pending,
                    self.refused,
                )
            raise RateLimited(
                "The server is busy signing other people in. Try again in a few seconds.",
                BUSY_RETRY_SECONDS,
            )
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                self.workers, thread_name_prefix="phonebank-hash", initializer=_lower_priority
            )
        self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self._pending -= 1
