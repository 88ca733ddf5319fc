"""What Asterisk hands the engine when a channel enters the Stasis app: which kind of channel
it is (the first Stasis argument) and, for an automatic call, the AMD verdict after it."""

from __future__ import annotations

from enum import StrEnum


class StasisArg(StrEnum):
    """The first Stasis argument: who put the channel into the app."""

    CALLIN = "callin"
    """A volunteer calling in (the dialplan's call-in extension)."""
    OUTBOUND = "outbound"
    """An automatic call after answering-machine detection: verdict, cause, answer time."""
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
