"""The harder answering-machine set on live calls (issue 17): the carrier simulator plays its
clips as behaviour 50 (clip VV = entry VV of the set's manifest), and the engine's streaming
detector hears what each clip holds — a person's long silence before "Hi?", a carrier
announcement's special-information tones, a short machine greeting and its beep, a machine
that starts after 1.5 s of silence."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from bench.amd_accuracy import take_calls
from engine.app import Engine
from engine.ari.client import AriClient
from engine.models import Attempt, CallOutcome, Campaign
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import SimVolunteer, make_campaign
from tests.helpers import wait_until

TALK_S = 6.0
"""How long a volunteer stays on a call: past the detector's retraction window, so a machine
first taken for a person is taken back before the volunteer hangs up."""


def clip_variant(pbx_pair: PbxPair, name: str) -> tuple[int, dict[str, object]]:
    """The variant (VV) of behaviour 50 that plays clip ``name`` ("late-1"), and its entry."""
    for variant, clip in enumerate(pbx_pair.hard_voices["files"]):
        if f"{clip['kind']}-{clip['index']}" == name:
            return variant, clip
    raise AssertionError(f"no clip {name} in the harder set's manifest")


@contextlib.asynccontextmanager
async def answering(engine: Engine, volunteers: list[SimVolunteer]) -> AsyncIterator[None]:
    loops = [asyncio.create_task(take_calls(engine, v, TALK_S)) for v in volunteers]
    try:
        yield
    finally:
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)


async def dial_clips(
    engine: Engine,
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    campaign: Campaign,
    clips: int,
) -> dict[str, Attempt]:
    """Two volunteers call in and take the campaign's calls until all ``clips`` have ended;
    the ended attempts by their numbers' last two digits (the clip's variant)."""
    volunteers = [await SimVolunteer.sign_in(engine, campaign, n) for n in range(2)]
    for volunteer in volunteers:
        await volunteer.call_in(pbx_pair, carrier)
    async with answering(engine, volunteers):
        for volunteer in volunteers:
            await engine.volunteers.start_calling(volunteer.session.id)

        async def all_ended() -> dict[str, Attempt] | None:
            attempts = await engine.store.list_attempts(campaign.id)
            ended = {a.phone[-2:]: a for a in attempts if a.outcome is not None}
            return ended if len(ended) == clips else None

        ended: dict[str, Attempt] = await wait_until(
            all_ended, timeout=60, what=f"the {clips} clips' calls"
        )
    return ended


async def test_the_carrier_plays_the_harder_sets_clips_and_the_detector_hears_them(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    late, _ = clip_variant(pbx_pair, "late-1")
    sit, _ = clip_variant(pbx_pair, "sit-0")
    short, _ = clip_variant(pbx_pair, "short-greeting-0")
    slow, _ = clip_variant(pbx_pair, "slow-start-0")
    rows = [("late", late), ("sit", sit), ("short", short), ("slow", slow)]
    csv = "first_name,last_name,phone,zip\n" + "".join(
        f"{name},Hard,+120255550{variant:02d},20001\n" for name, variant in rows
    )
    campaign = await make_campaign(
        engine, csv.encode(), amd_engine="streaming", ring_seconds=20, max_attempts=1
    )
    ended = await dial_clips(engine, pbx_pair, carrier, campaign, len(rows))
    for name, variant in rows:
        a = ended[f"{variant:02d}"]
        print(name, a.amd_verdict, a.amd_cause, "heard" if a.heard_machine else "")
    person, announcement, machine, slow_machine = (ended[f"{v:02d}"] for _, v in rows)

    # The person says "Hi?" after 2 s of silence: HUMAN on the silence, put through before
    # their first word, and not taken back when they speak.
    assert person.amd_verdict == "HUMAN" and person.amd_cause == "SILENCE-800", person.amd_cause
    assert person.answered_at and person.bridged_at
    assert (person.bridged_at - person.answered_at).total_seconds() < 1.5
    assert person.outcome != CallOutcome.MACHINE and not person.heard_machine
    # 1.5 s of silence, then a long greeting: put through on the silence, then taken back.
    assert slow_machine.amd_verdict == "MACHINE", slow_machine.amd_cause
    assert slow_machine.amd_cause.startswith("LONGGREETING-"), slow_machine.amd_cause
    assert slow_machine.heard_machine and slow_machine.outcome == CallOutcome.MACHINE
    # The announcement opens with special-information tones: MACHINE at once, never bridged.
    assert announcement.amd_verdict == "MACHINE", announcement.amd_cause
    assert announcement.amd_cause.startswith("SIT-"), announcement.amd_cause
    assert announcement.bridged_at is None and announcement.outcome == CallOutcome.MACHINE
    # "Leave a message." and a beep: a machine in the end (a volunteer may have heard it
    # after its short greeting, then been taken back).
    assert machine.amd_verdict == "MACHINE", machine.amd_cause
    assert machine.outcome == CallOutcome.MACHINE
    assert machine.heard_machine or machine.bridged_at is None


async def test_a_campaign_deadline_puts_a_sentence_through_mid_greeting_and_takes_a_machine_back(
    engine: Engine, pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog]
) -> None:
    """human_deadline_ms 1400: "Hello, this is John speaking." (HUMAN 2.4 s after answer
    without it) is put through at the deadline and kept; a machine greeting over music is put
    through at the deadline too, and taken back when its greeting outgrows a person's."""
    person_variant, person_clip = clip_variant(pbx_pair, "with-name-0")
    machine_variant, _ = clip_variant(pbx_pair, "music-0")
    assert float(str(person_clip["speech_end"])) > 1.6
    rows = [("person", person_variant), ("machine", machine_variant)]
    csv = "first_name,last_name,phone,zip\n" + "".join(
        f"{name},Deadline,+130355550{variant:02d},20001\n" for name, variant in rows
    )
    campaign = await make_campaign(
        engine,
        csv.encode(),
        amd_engine="streaming",
        amd_thresholds={"human_deadline_ms": 1400},
        ring_seconds=20,
        max_attempts=1,
    )
    ended = await dial_clips(engine, pbx_pair, carrier, campaign, len(rows))
    person, machine = (ended[f"{v:02d}"] for _, v in rows)
    print(person.amd_cause, machine.amd_cause, machine.heard_machine)

    assert person.amd_verdict == "HUMAN" and person.amd_cause == "DEADLINE-1400", person.amd_cause
    assert person.answered_at and person.bridged_at
    assert (person.bridged_at - person.answered_at).total_seconds() < 2.0
    assert person.outcome != CallOutcome.MACHINE and not person.heard_machine
    assert machine.amd_verdict == "MACHINE", machine.amd_cause
    assert machine.amd_cause.startswith("LONGGREETING-"), machine.amd_cause
    assert machine.heard_machine and machine.outcome == CallOutcome.MACHINE
