"""Wake-ups between the parts of the engine: "a volunteer became ready" and "look again now".

Telephony, the dialer loop and the session service share one `Wakeups`: a session turning
READY wakes the calls of that campaign waiting for a volunteer (the 2-second connect window)
and the dialer loop; the dialing gate opening or the PBX coming back wakes the dialer loop.
"""

from __future__ import annotations

import asyncio
import contextlib


class Wakeups:
    def __init__(self) -> None:
        self._volunteer_ready: dict[int, asyncio.Event] = {}
        self.dialer = asyncio.Event()
        """Set when the dialer loop should look at every campaign again now."""

    def wake(self, campaign_id: int) -> None:
        """A volunteer of this campaign may be ready: wake its waiting calls and the dialer."""
        event = self._volunteer_ready.pop(campaign_id, None)
        if event is not None:
            event.set()
        self.dialer.set()

    async def wait_for_volunteer(self, campaign_id: int, timeout: float) -> None:
        """Return when `wake(campaign_id)` is called or after `timeout` seconds."""
        event = self._volunteer_ready.setdefault(campaign_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
