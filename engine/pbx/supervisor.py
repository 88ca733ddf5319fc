"""Supervision of the Asterisk processes `phonebank run` owns: notice a death within a
second, restart the instance with backoff (same ports, configuration and ARI credentials,
so the engine's ARI client reconnects by itself) and say so in the log and to a listener.

A frozen Asterisk (SIGSTOP, or wedged) is alive but silent: the engine holds dialing while it
does not answer (engine/telephony/recovery.py) and carries on when it does; if it has not
answered ARI for ``watchdog_seconds`` (watchdog.py), it is killed by PID (SIGKILL) and
restarted the same way as a dead one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable

from engine.errors import PbxStartError
from engine.pbx.instance import AsteriskInstance
from engine.pbx.run import PbxRun
from engine.pbx.watchdog import PROBE_EVERY_S, PROBE_TIMEOUT_S, HealthClock

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
    """Watches every instance of a PBX run; run() until cancelled."""

    def __init__(
        self,
        pbx: PbxRun,
        start_timeout: float,
        listener: Listener | None = None,
        *,
        watchdog_seconds: float = 30.0,
    ) -> None:
        self.pbx = pbx
        self.start_timeout = start_timeout
        self.listener = listener
        self.health = HealthClock(watchdog_seconds)
        """When each instance last answered ARI (the watchdog's evidence)."""
        self.restarts = 0
        """Restarts done so far (for tests and the log)."""
        self._failures: dict[str, int] = {}
        self._up_since: dict[str, float] = {}

    async def run(self) -> None:
        probes = asyncio.create_task(self._probe(), name="pbx-health-probes")
        try:
            while True:
                for instance in self.pbx.instances:
                    if not instance.running():
                        await self._restart(instance, "has died")
                    elif self.health.frozen(instance.spec.name, time.monotonic()):
                        await self._kill_frozen(instance)
                self.pbx.renew_lease()
                await asyncio.sleep(POLL_S)
        finally:
            probes.cancel()
            await asyncio.gather(probes, return_exceptions=True)

    async def _probe(self) -> None:
        """Ask every running instance's ARI whether it answers, every PROBE_EVERY_S."""

        async def one(instance: AsteriskInstance) -> None:
            if instance.running() and await asyncio.to_thread(instance.healthy, PROBE_TIMEOUT_S):
                self.health.answered(instance.spec.name, time.monotonic())

        while True:
            await asyncio.gather(*(one(instance) for instance in self.pbx.instances))
            await asyncio.sleep(PROBE_EVERY_S)

    async def _kill_frozen(self, instance: AsteriskInstance) -> None:
        """Kill an instance that is alive but silent (SIGKILL by PID), then restart it."""
        name, pid = instance.spec.name, instance.pid
        silent = self.health.silent_for(name, time.monotonic())
        log.error(
            "the %s PBX (Asterisk pid %s) has not answered ARI for %.0f s: killing it",
            name,
            pid,
            silent,
        )
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        await self._restart(instance, f"was frozen for {silent:.0f} s and was killed")

    async def _restart(self, instance: AsteriskInstance, why: str) -> None:
        name = instance.spec.name
        if time.monotonic() - self._up_since.get(name, 0.0) >= STABLE_S:
            self._failures[name] = 0
        failures = self._failures[name] = self._failures.get(name, 0) + 1
        delay = restart_delay(failures)
        log.error(
            "the %s PBX (Asterisk pid %s) %s; restarting it in %.0f s (restart %d in a row)",
            name,
            instance.pid,
            why,
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
        self.health.answered(name, self._up_since[name])  # start() waited for ARI to answer
        self.restarts += 1
        self.pbx.save_owner(os.getpid())
        log.warning("the %s PBX is back: Asterisk pid %d", name, instance.pid)
        self._tell(name, "restarted")

    def _tell(self, name: str, what: str) -> None:
        if self.listener is not None:
            self.listener(name, what)
