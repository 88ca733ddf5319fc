"""Watch the trunk to the carrier: Asterisk qualifies it with SIP OPTIONS
(`qualify_frequency` on its aor, asterisk_conf/common/pjsip.conf.j2) and marks the endpoint
offline when the carrier stops answering them. While it is offline the dialing gate is held,
so no voter is dialed into a silent network; it is released as soon as the trunk qualifies
again. The state is read from ARI every `poll_s` and from EndpointStateChange events (the
Stasis app is subscribed to the trunk endpoint)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime

from engine.ari.client import AriClient
from engine.ari.event_types import EndpointStateChange
from engine.calls.gate import TRUNK_DOWN, TRUNK_DOWN_MESSAGE, DialingGate
from engine.clock import utc_now
from engine.errors import AriError

log = logging.getLogger(__name__)

POLL_S = 2.0
CONFIRM_S = 0.0
"""How long the trunk must read offline before dialing is held. None: once Asterisk marks the
trunk's contact unreachable it refuses every originate to it (HTTP 500 at once), so waiting
to confirm only turns the wait into a burst of failed calls."""


class TrunkWatch:
    def __init__(
        self,
        ari: AriClient,
        gate: DialingGate,
        trunk: str,
        *,
        on_change: Callable[[], None],
        poll_s: float = POLL_S,
        confirm_s: float = CONFIRM_S,
    ) -> None:
        self.ari = ari
        self.gate = gate
        self.trunk = trunk
        self.on_change = on_change
        """Called whenever the gate opened or closed because of the trunk."""
        self.poll_s = poll_s
        self.confirm_s = confirm_s
        self.state = "unknown"
        self._offline_since: float | None = None
        self.last_online: datetime | None = None
        """When the trunk was last seen online: calls ending after it may have met silence."""

    async def run(self) -> None:
        """Read the trunk's state every `poll_s` until cancelled."""
        while True:
            try:
                endpoint = await self.ari.get_endpoint("PJSIP", self.trunk)
            except AriError as exc:
                log.debug("trunk %s: state unreadable: %s", self.trunk, exc)
            else:
                self.update(str(endpoint.get("state", "unknown")))
            await asyncio.sleep(self.poll_s)

    def on_EndpointStateChange(self, event: EndpointStateChange) -> None:
        if event.technology == "PJSIP" and event.resource == self.trunk:
            self.update(event.state)

    def update(self, state: str, now: float | None = None) -> None:
        """Offline for `confirm_s` holds dialing; online releases it (unknown, not yet
        qualified, changes nothing). `now`: time.monotonic()."""
        now = time.monotonic() if now is None else now
        if state != self.state:
            log.info("trunk %s: %s -> %s", self.trunk, self.state, state)
        self.state = state
        if state != "offline":
            self._offline_since = None
        elif self._offline_since is None:
            self._offline_since = now
        changed = False
        if state == "offline" and now - (self._offline_since or now) >= self.confirm_s:
            changed = self.gate.hold(TRUNK_DOWN, TRUNK_DOWN_MESSAGE)
        elif state == "online":
            self.last_online = utc_now()
            changed = self.gate.release(TRUNK_DOWN)
        if changed:
            self.on_change()
