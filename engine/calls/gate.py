"""Whether the dialer may place calls now: open unless something of ours is down.

Each reason to hold dialing has a name and a sentence for the log and the pages; dialing
resumes when the last one is released. The ARI connection holds it as ``PBX_DOWN`` while the
events websocket is away (Asterisk dead, restarting or frozen); other watchers (a SIP trunk
qualify, say) add their own names. Pure: no I/O; whoever owns the gate tells the pages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from engine.notifier import DialingView

log = logging.getLogger(__name__)

PBX_DOWN = "pbx"
"""The dialer PBX does not answer ARI (the events websocket is down)."""
TRUNK_DOWN = "trunk down"
"""The trunk to the carrier fails its SIP OPTIONS (trunk_watch.py)."""
TRUNK_DOWN_MESSAGE = "The phone line to the carrier is down; dialing paused."


class DialingGate:
    """The named reasons dialing is held; ``on_change`` is called after every change."""

    def __init__(self, on_change: Callable[[DialingGate], None] | None = None) -> None:
        self._held: dict[str, str] = {}
        self._on_change = on_change

    @property
    def open(self) -> bool:
        """True when nothing holds dialing."""
        return not self._held

    @property
    def reasons(self) -> dict[str, str]:
        """Each reason holding dialing, with its sentence."""
        return dict(self._held)

    def held_for(self, reason: str) -> bool:
        """True when ``reason`` is one of those holding dialing."""
        return reason in self._held

    def why(self) -> str:
        """Every reason's sentence, for a log line or a page; empty when open."""
        return " ".join(self._held.values())

    def view(self) -> DialingView:
        """What the pages show on load: ``{"paused": bool, "message": str}``."""
        return {"paused": not self.open, "message": self.why()}

    def hold(self, reason: str, message: str) -> bool:
        """Hold dialing for ``reason``; True when that reason was not holding it already."""
        new = reason not in self._held
        changed = self._held.get(reason) != message
        self._held[reason] = message
        if new:
            log.warning("dialing held (%s): %s", reason, message)
        if changed and self._on_change is not None:
            self._on_change(self)
        return new

    def release(self, reason: str) -> bool:
        """Stop holding dialing for ``reason``; True when it was holding it."""
        if self._held.pop(reason, None) is None:
            return False
        log.warning("dialing %s (%s released)", "resumes" if self.open else "still held", reason)
        if self._on_change is not None:
            self._on_change(self)
        return True
