"""What the state tables (engine/call_states.py, engine/session_states.py) raise."""

from __future__ import annotations

from engine.errors import PhonebankError


class IllegalTransition(PhonebankError):
    """The event does not apply to the current state; the message names both."""
