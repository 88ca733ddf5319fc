"""Call every synthetic greeting through the real trunk and record app_amd's verdicts.

Used by the integration test (which checks the verdicts). bench/amd_accuracy.py measures both
detectors through the engine instead, and takes its evaluation sets from here
(``survey_voters``): today's (behaviours 10, 11, 20, 21 over data/voices.toml) and the harder
one (behaviour 50 over data/voices-hard.toml, each clip's expected verdict from its manifest).
"""

from __future__ import annotations

import asyncio
import statistics
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.ari.client import AriClient
from engine.pbx.dialer import DIALER_APP
from testbed.behaviours import BY_CODE, voter_number
from testbed.events import EventLog
from testbed.pair import PbxPair

SURVEY_CODES = ("10", "11", "20", "21")
"""Behaviours whose greetings are surveyed: people (plain and silent first) and machines."""
VOICE_KIND = {"10": "person", "11": "person", "20": "machine", "21": "carriervm"}
HARD_CODE = "50"
"""The behaviour that plays clip VV of the harder set."""
SETS = ("today", "hard")


@dataclass(frozen=True)
class SurveyVoter:
    """One greeting of an evaluation set as the carrier simulator plays it: the number's
    behaviour code and variant, and the verdict a detector should give."""

    set_name: str
    code: str
    variant: int
    kind: str
    expected: str

    @property
    def digits(self) -> str:
        """The number's last four digits (BBVV), which say which greeting it is."""
        return f"{self.code}{self.variant:02d}"


def survey_voters(
    set_name: str, voices: dict[str, Any], hard_voices: dict[str, Any]
) -> list[SurveyVoter]:
    """The greetings of set ``set_name`` ("today" or "hard"), given both sets' manifests.
    Raises ValueError for another name, or "hard" with no clips (a carrier without them)."""
    if set_name == "today":
        return [
            SurveyVoter(
                "today",
                code,
                f["index"],
                VOICE_KIND[code] + ("-silent-first" if code == "11" else ""),
                BY_CODE[code].amd or "?",
            )
            for code in SURVEY_CODES
            for f in voices["files"]
            if f["kind"] == VOICE_KIND[code]
        ]
    if set_name == "hard":
        if not hard_voices.get("files"):
            raise ValueError("this pair's carrier has no clips of the harder set")
        return [
            SurveyVoter("hard", HARD_CODE, n, f["kind"], f["expected"])
            for n, f in enumerate(hard_voices["files"])
        ]
    raise ValueError(f"unknown evaluation set {set_name!r}: one of {', '.join(SETS)}")


@dataclass(frozen=True)
class AmdResult:
    number: str
    code: str
    expected: str
    verdict: str
    cause: str
    seconds_to_verdict: float
    """From the call being answered (channel Up) to the channel entering Stasis with the verdict."""
    text: str
    noisy: bool

    @property
    def right(self) -> bool:
        return self.verdict == self.expected


async def survey(
    pair: PbxPair,
    ari: AriClient,
    events: EventLog,
    *,
    rounds: int = 1,
    concurrency: int = 12,
    amd_args: str | None = None,
) -> list[AmdResult]:
    """Call each surveyed greeting ``rounds`` times, ``concurrency`` calls at a time."""
    files = pair.voices["files"]
    jobs = []
    for _ in range(rounds):
        for code in SURVEY_CODES:
            voices = [f for f in files if f["kind"] == VOICE_KIND[code]]
            jobs += [(code, v) for v in voices]
    limit = asyncio.Semaphore(concurrency)

    async def one(code: str, voice: dict[str, Any]) -> AmdResult:
        async with limit:
            return await _call(ari, events, code, voice, amd_args)

    return list(await asyncio.gather(*(one(code, voice) for code, voice in jobs)))


async def _call(
    ari: AriClient, events: EventLog, code: str, voice: dict[str, Any], amd_args: str | None
) -> AmdResult:
    number = voter_number(code, voice["index"])
    channel_id = f"amd-{code}-{voice['index']}-{uuid.uuid4().hex[:8]}"
    variables = {"PHONEBANK_AMD": amd_args} if amd_args else None
    await ari.originate(
        f"PJSIP/{number}@carrier",
        channel_id=channel_id,
        context="phonebank-amd",
        extension="s",
        priority=1,
        timeout=30,
        variables=variables,
    )
    start = await events.wait_for(
        lambda e: (
            e.get("type") == "StasisStart"
            and e["channel"]["id"] == channel_id
            and e.get("application") == DIALER_APP
        ),
        timeout=45,
        what=f"AMD verdict for {number}",
    )
    await ari.hangup(channel_id)
    await events.wait_type("StasisEnd", channel_id)
    args = start.get("args", [])
    # Stasis(phonebank,outbound,AMDSTATUS,AMDCAUSE,ANSWERED_AT): see the dialer's dialplan.
    _, verdict, cause, answered_at = args
    seconds = _ts(start).timestamp() - float(answered_at)
    expected = BY_CODE[code].amd or "?"
    return AmdResult(number, code, expected, verdict, cause, seconds, voice["text"], voice["noisy"])


def _ts(event: dict[str, Any]) -> datetime:
    return datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")


def summarize(results: list[AmdResult]) -> dict[str, Any]:
    """Accuracy overall and per expected verdict; seconds to a HUMAN verdict (median, p95)."""

    def pct(rs: list[AmdResult]) -> float:
        return round(100.0 * sum(r.right for r in rs) / len(rs), 1) if rs else 0.0

    humans = [r for r in results if r.expected == "HUMAN"]
    machines = [r for r in results if r.expected == "MACHINE"]
    times = sorted(r.seconds_to_verdict for r in humans if r.verdict == "HUMAN")
    machine_times = sorted(r.seconds_to_verdict for r in machines if r.verdict == "MACHINE")
    return {
        "calls": len(results),
        "accuracy_pct": pct(results),
        "human_right_pct": pct(humans),
        "machine_right_pct": pct(machines),
        "humans_called_machine": sum(1 for r in humans if r.verdict == "MACHINE"),
        "machines_passed_as_human": sum(1 for r in machines if r.verdict == "HUMAN"),
        "human_verdict_median_s": _quantile(times, 0.5),
        "human_verdict_p95_s": _quantile(times, 0.95),
        "machine_verdict_median_s": _quantile(machine_times, 0.5),
        "machine_verdict_p95_s": _quantile(machine_times, 0.95),
    }


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 3)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1], 3)
