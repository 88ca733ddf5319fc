"""Supervision of the Asterisk processes `phonebank run` owns: notice a death within a
second, restart the instance with backoff (same ports, configuration and ARI credentials,
so the engine's ARI client reconnects by itself) and say so in the log and to a listener.

A frozen Asterisk (SIGSTOP) is alive and left alone: the engine holds dialing while it does
not answer (engine/telephony/recovery.py) and carries on when it does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable

from engine.errors import PbxStartError
from engine.pbx.instance import AsteriskInstance
from engine.pbx.pair import PbxPair

log = logging.getLogger(__name__)

POLL_S = 0.5
BACKOFF_S = (0.0, 1.0, 2.0, 5.0, 10.0, 30.0)
"""Seconds before each restart in a row; the last one repeats."""
STABLE_S = 60.0
"""An instance that stayed up this long starts the backoff again from the beginning."""

Listener = Callable[[str, str], None]
"""Called with (instance name, "restarting" | "restarted" | "restart failed")."""


def restart_delay(failures: int) -> float:
    """Seconds to wait before restart number ``failures`` (1 for the first) in a row."""
    return BACKOFF_S[min(max(failures, 1), len(BACKOFF_S)) - 1]


class PbxSupervisor:
    """Watches both instances of a pair; run() until cancelled."""

    def __init__(
        self, pair: PbxPair, start_timeout: float, listener: Listener | None = None
    ) -> None:
        self.pair = pair
        self.start_timeout = start_timeout
        self.listener = listener
        self.restarts = 0
        """Restarts done so far (for tests and the log)."""
        self._failures: dict[str, int] = {}
        self._up_since: dict[str, float] = {}

    async def run(self) -> None:
        while True:
            for instance in self.pair.instances:
                if not instance.running():
                    await self._restart(instance)
            self.pair.renew_lease()
            await asyncio.sleep(POLL_S)

    async def _restart(self, instance: AsteriskInstance) -> None:
        name = instance.spec.name
        if time.monotonic() - self._up_since.get(name, 0.0) >= STABLE_S:
            self._failures[name] = 0
        failures = self._failures[name] = self._failures.get(name, 0) + 1
        delay = restart_delay(failures)
        log.error(
            "the %s PBX (Asterisk pid %s) has died; restarting it in %.0f s (restart %d in a row)",
            name,
            instance.pid,
            delay,
            failures,
        )
        self._tell(name, "restarting")
        await asyncio.sleep(delay)
        try:
            await asyncio.to_thread(instance.restart, self.start_timeout)
        except PbxStartError as exc:
            log.error("restarting the %s PBX failed: %s", name, exc)
            self._tell(name, "restart failed")
            return
        self._up_since[name] = time.monotonic()
        self.restarts += 1
        self.pair.save_owner(os.getpid())
        log.warning("the %s PBX is back: Asterisk pid %d", name, instance.pid)
        self._tell(name, "restarted")

    def _tell(self, name: str, what: str) -> None:
        if self.listener is not None:
            self.listener(name, what)
