"""A whole shift on the real PBX pair: three volunteers call in, the engine dials a 60-voter
list of mixed behaviours, people are connected, results are saved and exported."""

from __future__ import annotations

import asyncio
import collections
from pathlib import Path

from engine.ari.client import AriClient
from engine.models import AfterResult, CallOutcome, SessionState, VoterStatus
from testbed.behaviours import BY_CODE, behaviour_of, voter_number
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import SimVolunteer, make_campaign, running_engine, voters_csv
from tests.helpers import wait_until

EXPECTED = {
    "10": {CallOutcome.CONTACT},
    "13": {CallOutcome.CONTACT},
    "20": {CallOutcome.MACHINE},
    "21": {CallOutcome.MACHINE},
    "30": {CallOutcome.BUSY},
    "31": {CallOutcome.NO_ANSWER},
    "32": {CallOutcome.UNALLOCATED},
    "33": {CallOutcome.REJECTED},
    "34": {CallOutcome.CONGESTION},
    "35": {CallOutcome.HUNG_UP_DURING_AMD},
}
LIST = (
    [("10", v) for v in range(12)]
    + [("13", v) for v in range(3)]
    + [("20", v) for v in range(8)]
    + [("21", v) for v in range(2)]
    + [(code, v) for code in ("30", "31", "32", "33", "34", "35") for v in range(5)]
    + [("10", 50 + v) for v in range(5)]
)
DNC = [voter_number("10", 50 + v) for v in range(5)]


async def answer_calls(volunteer: SimVolunteer, stop: asyncio.Event) -> int:
    """Act as a volunteer: talk a moment, end the call (or let the voter hang up), save a
    result and ask for the next call, until ``stop``. Returns the number of calls taken."""
    taken = 0
    while not stop.is_set():
        try:
            session = await volunteer.wait_state(
                SessionState.TALKING, SessionState.WRAP_UP, timeout=1
            )
        except AssertionError:
            continue
        if session.state == SessionState.TALKING:
            await asyncio.sleep(1.0)  # the conversation
            if (await volunteer.refresh()).state == SessionState.TALKING:
                await volunteer.engine.volunteers.end_call(session.id)
            await volunteer.wait_state(SessionState.WRAP_UP, timeout=10)
        await volunteer.engine.volunteers.submit_result(
            session.id, "talked", {"support": "yes"}, "=cmd|' /C calc'!A0", then=AfterResult.READY
        )
        taken += 1
    return taken


async def test_three_volunteers_work_a_mixed_list(
    pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog], tmp_path: Path
) -> None:
    async with running_engine(pbx_pair, tmp_path / "shift.db") as engine:
        for phone in DNC:
            await engine.operators.add_dnc("test", phone, None, "asked not to be called")
        campaign = await make_campaign(engine, voters_csv(LIST))
        volunteers = [await SimVolunteer.sign_in(engine, campaign, n) for n in range(3)]
        for n, volunteer in enumerate(volunteers):
            await volunteer.call_in(pbx_pair, carrier, mistype=(n == 0))
        for volunteer in volunteers:
            await engine.volunteers.start_calling(volunteer.session.id)
        stop = asyncio.Event()
        workers = [asyncio.create_task(answer_calls(v, stop)) for v in volunteers]

        async def list_finished() -> bool:
            counts = await engine.store.voter_counts(campaign.id)
            return not counts.get(VoterStatus.PENDING) and not counts.get(VoterStatus.IN_FLIGHT)

        await wait_until(list_finished, timeout=240, what="the list to be worked")
        telephony = engine.telephony
        assert telephony is not None
        await wait_until(
            lambda: all(not t.done() for t in workers) and not telephony.calls.by_channel,
            timeout=30,
            what="the last calls to end",
        )
        stop.set()
        taken = await asyncio.gather(*workers)

        attempts = await engine.store.list_attempts(campaign.id)
        by_number = collections.defaultdict(list)
        for attempt in attempts:
            by_number[attempt.phone].append(attempt)
        # DNC numbers are never dialed; every other voter exactly once.
        assert not set(DNC) & set(by_number)
        assert len(by_number) == len(LIST) - len(DNC)
        assert all(len(a) == 1 for a in by_number.values())
        for phone, (attempt,) in by_number.items():
            behaviour = behaviour_of(phone)
            assert behaviour is not None
            code = behaviour.code
            assert attempt.outcome in EXPECTED[code], (phone, BY_CODE[code].name, attempt)
            if code in ("30", "32", "33", "34"):
                assert attempt.hangup_cause == BY_CODE[code].cause, attempt
        contacts = [a for a in attempts if a.outcome == CallOutcome.CONTACT]
        assert len(contacts) == 15
        # Each live voter was bridged to exactly one volunteer, and every volunteer worked.
        assert all(a.session_id is not None and a.bridged_at for a in contacts)
        assert sum(taken) == 15 and all(taken)
        # Results are stored and exported, safe for spreadsheets.
        chunks = [c async for c in engine.operators.results_csv("test", campaign.id)]
        export = "".join(chunks)
        assert export.count("\n") == 16
        assert "'=cmd" in export and ",=cmd" not in export
        assert (await engine.store.voter_counts(campaign.id)).get(VoterStatus.DNC) == 5
        stats = await engine.operators.stats(campaign.id)
        assert stats["abandon_rate_today"] == 0.0
        for volunteer in volunteers:
            await engine.volunteers.log_out(volunteer.session.id)
            assert volunteer.phone is not None
            await volunteer.phone.wait_hung_up(timeout=15)
