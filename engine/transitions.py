"""What the state tables (engine/calls/states.py, engine/sessions/states.py) raise."""

from __future__ import annotations

from engine.errors import PhonebankError


class IllegalTransition(PhonebankError):
    """The event does not apply to the current state; the message names both."""
