"""An automatic call in flight, as its owner knows it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from engine.calls.owner import CallOwner
from engine.calls.states import CallPhase
from engine.models import CallState, Campaign, Voter


@dataclass
class LiveCall:
    attempt_id: int
    campaign: Campaign
    voter: Voter
    channel_id: str
    phase: CallPhase = CallPhase.CLAIMED
    owner: CallOwner = field(kw_only=True, repr=False)
    """Runs every change of this call, one at a time (owner.py)."""
    answered: bool = False
    session_id: int | None = None
    verdict_at: float = 0.0
    """time.monotonic() of the AMD verdict, for the verdict→bridge measurement."""
    placed_at: float = field(default_factory=time.monotonic)
    answered_at: float | None = None
    """time.monotonic() of the answer: from then on the call is in AMD (for pacing)."""
    unconfirmed: bool = False
    """Its originate got no answer (the PBX down or frozen): it may or may not exist."""
    retractable: bool = False
    """Put through as a person by the streaming detector, which still listens: at the end of
    the voter's first words (early connect) or on its HUMAN verdict (within its retract_ms).
    A MACHINE verdict then takes it back (Answers.take_back)."""
    packets_at_listen: str | None = None
    """The RTP packets the voter's channel had received when the streaming detector began to
    listen (CHANNEL(rtcp,rxcount)): a SILENCE verdict on a line that received none since is
    dead air, not a person waiting."""
    rang: bool = False
    """The carrier answered the INVITE with ringing (180) or an answer: the network works."""

    @property
    def state(self) -> CallState:
        """The state recorded with the attempt."""
        return self.phase.stored

    @property
    def label(self) -> str:
        return self.channel_id
