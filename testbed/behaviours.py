"""The carrier simulator's number table: the last four digits BBVV of a dialed number choose the
voter's behaviour BB and the variant VV (which synthetic voice). docs/testbed.md shows this
table; asterisk_conf/carrier/extensions.conf.j2 implements it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    """What the dialer sees when it calls the number."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no answer"
    UNALLOCATED = "unallocated"
    REJECTED = "rejected"
    CONGESTION = "congestion"


@dataclass(frozen=True)
class Behaviour:
    code: str
    name: str
    outcome: Outcome
    cause: int | None
    """Hangup cause the dialer's channel ends with (None: ended by whoever hangs up first)."""
    amd: str | None
    """The AMD verdict expected on the dialer PBX, for answered behaviours that speak (None
    for code 50: each clip's manifest entry says)."""
    description: str


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        "10",
        "live person",
        Outcome.ANSWERED,
        None,
        "HUMAN",
        'answers, says a short greeting ("Hello?"), pauses for the caller, then talks '
        "in turns for up to 120 s and hangs up",
    ),
    Behaviour(
        "11",
        "live person, silent first",
        Outcome.ANSWERED,
        None,
        "HUMAN",
        "answers, is silent for 1 s, then behaves like 10",
    ),
    Behaviour(
        "13",
        "live person, short call",
        Outcome.ANSWERED,
        16,
        "HUMAN",
        "like 10 but hangs up after about 10 s of talk",
    ),
    Behaviour(
        "14",
        "live person, rings first",
        Outcome.ANSWERED,
        None,
        "HUMAN",
        "rings for VV seconds (the variant), then like 10 but talks until the caller hangs up "
        "(at most an hour)",
    ),
    Behaviour(
        "20",
        "answering machine",
        Outcome.ANSWERED,
        16,
        "MACHINE",
        "answers, plays a long personal greeting and a beep, then 20 s of silence, hangs up",
    ),
    Behaviour(
        "21",
        "carrier voicemail",
        Outcome.ANSWERED,
        16,
        "MACHINE",
        'answers with the network\'s "the person you are trying to reach..." greeting '
        "and a tone, then 20 s of silence",
    ),
    Behaviour(
        "22",
        "answering machine, rings first",
        Outcome.ANSWERED,
        16,
        "MACHINE",
        "rings for VV seconds (the variant), then like 20",
    ),
    Behaviour("30", "busy", Outcome.BUSY, 17, None, "486 Busy Here"),
    Behaviour(
        "31", "no answer", Outcome.NO_ANSWER, 19, None, "rings (180) until the dialer gives up"
    ),
    Behaviour("32", "unallocated number", Outcome.UNALLOCATED, 1, None, "404 Not Found"),
    Behaviour("33", "call rejected", Outcome.REJECTED, 21, None, "603 Decline"),
    Behaviour("34", "network congestion", Outcome.CONGESTION, 34, None, "503 Service Unavailable"),
    Behaviour(
        "35", "answers then hangs up", Outcome.ANSWERED, 16, None, "answers and hangs up at once"
    ),
    Behaviour(
        "40",
        "slow answer",
        Outcome.ANSWERED,
        None,
        "HUMAN",
        "rings for about 20 s, then behaves like 10",
    ),
    Behaviour(
        "50",
        "a clip of the harder AMD set",
        Outcome.ANSWERED,
        None,
        None,
        "answers and plays clip VV of the harder set (its position in the set's manifest.json; "
        "the manifest gives the expected verdict); a person then talks as 10, a machine is "
        "silent for 20 s and hangs up",
    ),
    Behaviour(
        "90",
        "silent listener",
        Outcome.ANSWERED,
        None,
        None,
        "answers and stays silent until the caller hangs up (for audio checks)",
    ),
)

BY_CODE = {b.code: b for b in BEHAVIOURS}


def voter_number(code: str, variant: int = 0, prefix: str = "+1202555") -> str:
    """A phone number that makes the carrier simulator behave as ``code``.

    >>> voter_number("30", 7)
    '+12025553007'
    """
    if code not in BY_CODE:
        raise ValueError(f"unknown behaviour code {code!r}: see docs/testbed.md")
    if not 0 <= variant <= 99:
        raise ValueError("variant must be 0..99")
    return f"{prefix}{code}{variant:02d}"


def behaviour_of(number: str) -> Behaviour | None:
    """The behaviour the carrier simulator gives ``number``, or None (unallocated)."""
    digits = "".join(c for c in number if c.isdigit())
    return BY_CODE.get(digits[-4:-2])
