"""Calls lost to a failure of ours (Asterisk died or froze, the engine restarted): what each
one is charged, and giving a voter back untouched.

Pure rules first: a call that reached a person we did not serve is an abandon (it counts
against the abandon rate, honestly); one that reached a machine is a machine; one connected to
a volunteer is a contact; a call that never reached a verdict is not the voter's doing and is
not charged at all: the attempt ends with no outcome, the attempt count is given back and the
voter is callable again at once, as before the claim.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from engine.calls.stasis import AmdVerdict, is_person
from engine.models import CallOutcome, CallState, Voter, VoterStatus
from engine.store.base import Store

__all__ = ["GAP_VARIABLE", "give_back_voter", "is_person", "lost_outcome", "parse_gap"]

log = logging.getLogger(__name__)

GAP_VARIABLE = "PHONEBANK_GAP_{channel_id}"
"""Global variable the dialplan sets when an answered call finds no engine in Stasis (its
AMD verdict and answer time, "STATUS,EPOCH"); read and cleared by the recovering engine."""


def lost_outcome(
    state: CallState, verdict: str, bridged: bool, connect_notsure: bool
) -> CallOutcome | None:
    """The outcome of a call that ended through our failure, or None: not charged.

    ``state``: where the call was; ``verdict``: its AMD verdict ("" if none came);
    ``bridged``: it had been put in a volunteer's bridge."""
    if bridged or state == CallState.CONNECTED:
        return CallOutcome.CONTACT
    if state in (CallState.CONNECTING, CallState.ABANDONING):
        return CallOutcome.ABANDONED
    if state == CallState.LEAVING_VOICEMAIL:
        return CallOutcome.MACHINE
    if verdict and verdict != AmdVerdict.HANGUP:
        person = is_person(verdict, connect_notsure)
        return CallOutcome.ABANDONED if person else CallOutcome.MACHINE
    return None


def status_before_claim(voter: Voter) -> VoterStatus:
    """The status a voter had before it was claimed: a claim leaves next_attempt_at alone, and
    only a voter never attempted has none."""
    return VoterStatus.PENDING if voter.next_attempt_at is None else VoterStatus.RETRY


async def give_back_voter(store: Store, voter_id: int) -> VoterStatus:
    """Undo a claim: the voter is callable again as it was, and the attempt is not counted."""
    voter = await store.get_voter(voter_id)
    status = status_before_claim(voter)
    await store.release_voter(voter_id, status, voter.next_attempt_at, refund_attempt=True)
    return status


def parse_gap(value: str) -> tuple[str, datetime | None]:
    """The (AMD verdict, answer time) the dialplan left in GAP_VARIABLE; ("", None) if none."""
    verdict, _, answered = value.partition(",")
    try:
        at = datetime.fromtimestamp(float(answered), UTC)
    except ValueError:
        at = None
    return verdict.strip(), at
