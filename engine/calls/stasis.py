"""What Asterisk hands the engine when a channel enters the Stasis app: which kind of channel
it is (the first Stasis argument) and, for an automatic call, the AMD verdict after it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class StasisArg(StrEnum):
    """The first Stasis argument: who put the channel into the app."""

    CALLIN = "callin"
    """A volunteer calling in (the dialplan's call-in extension)."""
    OUTBOUND = "outbound"
    """An automatic call after answering-machine detection: verdict, cause, answer time."""
    LISTEN = "listen"
    """An automatic call just answered, for the engine's streaming detector: answer time."""
    PREVIEW = "preview"
    """A preview call the volunteer placed, answered."""
    BROWSER = "browser"
    """A signed-in browser's audio: its endpoint follows."""


class AmdVerdict(StrEnum):
    """AMD()'s AMDSTATUS, as the dialplan passes it."""

    HUMAN = "HUMAN"
    MACHINE = "MACHINE"
    NOTSURE = "NOTSURE"
    HANGUP = "HANGUP"


def is_person(verdict: str, connect_notsure: bool) -> bool:
    """Whether an AMD verdict counts as a person (the campaign may treat NOTSURE as one)."""
    return verdict == AmdVerdict.HUMAN or (verdict == AmdVerdict.NOTSURE and connect_notsure)


@dataclass(frozen=True)
class AmdResult:
    """The arguments after "outbound": what AMD() said and when the line was answered."""

    verdict: str
    """An AmdVerdict, as text ("" if the dialplan passed none; kept as given)."""
    cause: str
    """AMDCAUSE, e.g. "INITIALSILENCE-2500-2500"."""
    answered_at: datetime | None
    """When the line was answered (the dialplan's EPOCH), if it said."""


def amd_result(args: Sequence[str]) -> AmdResult:
    """Read the Stasis arguments of an automatic call: ("outbound", verdict, cause, epoch)."""
    verdict, cause, answered_at = ([*args, "", "", ""])[1:4]
    try:
        at = datetime.fromtimestamp(float(answered_at), UTC)
    except ValueError:
        at = None
    return AmdResult(verdict, cause, at)
