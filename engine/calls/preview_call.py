"""A preview call as its owner knows it, and the ring tone the volunteer hears meanwhile."""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field

from engine.ari.client import AriClient
from engine.audio.media import Player
from engine.calls.owner import CallOwner
from engine.calls.states import CallPhase
from engine.errors import AriError
from engine.models import CallOutcome, Campaign, Session, Voter

log = logging.getLogger(__name__)

RINGBACK = "tone:ring;tonezone=us"
"""What the volunteer hears while the voter's phone rings."""
RINGBACK_STOP_S = 1.0
"""How long an answer waits for the ring tone to end before the voter is put through anyway
(it takes a few milliseconds)."""

OUTCOME_WORDS: dict[CallOutcome, str] = {
    CallOutcome.NO_ANSWER: "No answer",
    CallOutcome.BUSY: "Busy",
    CallOutcome.UNALLOCATED: "The number is not in service",
    CallOutcome.REJECTED: "The call was declined",
    CallOutcome.CONGESTION: "The phone network is busy: this voter will be tried again later",
    CallOutcome.FAILED: "The call could not be placed: this voter will be tried again later",
}
"""What the volunteer's page says when a preview call is not answered."""
LOST_WORDS = "The phone system went away before the voter answered: they go back on the list"


@dataclass
class PreviewCall:
    """A voter held for one volunteer: on the card, then ringing, then connected."""

    session_id: int
    attempt_id: int
    campaign: Campaign
    voter: Voter
    owner: CallOwner = field(kw_only=True, repr=False)
    """Runs every change of this call (and of its card), one at a time (owner.py)."""
    phase: CallPhase = CallPhase.CLAIMED
    channel_id: str | None = None
    ringback_id: str | None = None
    rang: bool = False
    """The voter's phone rang (Ringing or Up): the carrier answered the INVITE."""
    released: bool = False
    """The volunteer let go (skip, cancel, break, log-out): an answer is hung up."""

    @property
    def label(self) -> str:
        return self.channel_id or f"preview {self.attempt_id}"


class Ringback:
    def __init__(self, ari: AriClient, player: Player) -> None:
        self.ari = ari
        self.player = player

    async def start(self, call: PreviewCall, session: Session) -> None:
        if not session.channel_id:
            return
        if call.campaign.hold_music and session.bridge_id:
            with contextlib.suppress(AriError):
                await self.ari.stop_bridge_moh(session.bridge_id)
        try:
            call.ringback_id = await self.player.play("channels", session.channel_id, RINGBACK)
        except AriError as exc:  # the ring tone is a nicety: the call still goes out
            log.warning("session %d: no ring tone: %s", session.id, exc)

    async def stop(self, call: PreviewCall, *, until_ended: bool = False) -> None:
        """End the ring tone; ``until_ended``: wait until it has really ended (only where no
        ARI event handler waits on us): until then the volunteer's channel is out of the
        bridge's mix, and a voter put through meanwhile hears nothing."""
        if call.ringback_id is not None:
            ringback, call.ringback_id = call.ringback_id, None
            wait = RINGBACK_STOP_S if until_ended else 0.0
            started = time.monotonic()
            try:
                ended = await self.player.stop(ringback, wait=wait)
            except AriError as exc:  # the call goes on; the volunteer may hear ringing
                log.warning("session %d: the ring tone would not stop: %s", call.session_id, exc)
                return
            if not ended:
                log.warning(
                    "session %d: the ring tone had not ended %.1f s after it was stopped",
                    call.session_id,
                    RINGBACK_STOP_S,
                )
            elif until_ended:
                log.debug(
                    "session %d: ring tone ended %.1f ms after the stop",
                    call.session_id,
                    (time.monotonic() - started) * 1e3,
                )
