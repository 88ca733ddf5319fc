"""Whether the dialer may place calls now: a small gate with named reasons to hold.

Anything that knows the network is unusable (the trunk to the carrier failing its SIP
OPTIONS, ARI being down) holds the gate under its own reason with a sentence for volunteers
and operators, and releases it when things are back; the dialer places no call while any
reason holds. Nothing here does I/O.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

TRUNK_DOWN = "trunk down"
TRUNK_DOWN_MESSAGE = "The phone line to the carrier is down; dialing paused."


@dataclass
class DialingGate:
    holds: dict[str, str] = field(default_factory=dict)
    """Each reason dialing is held, with the message shown while it holds."""

    @property
    def open(self) -> bool:
        return not self.holds

    def hold(self, reason: str, message: str) -> bool:
        """Hold dialing for `reason`; True when this is news (it was not held for it)."""
        if reason in self.holds:
            return False
        self.holds[reason] = message
        log.warning("dialing held: %s", message)
        return True

    def release(self, reason: str) -> bool:
        """Release the hold for `reason`; True when it was held."""
        if self.holds.pop(reason, None) is None:
            return False
        resumes = "" if self.holds else "; dialing resumes"
        log.warning("dialing hold released: %s%s", reason, resumes)
        return True

    def message(self) -> str:
        """What volunteers and operators are told while dialing is held ("" when open)."""
        return " ".join(self.holds.values())
