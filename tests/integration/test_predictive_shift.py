"""Predictive dialing on the real PBX pair: two volunteers, a list where few people answer.
The dialer places more calls than there are ready volunteers, never gives one volunteer two
voters, counts abandons as the dashboard shows them, and keeps what it learned across an
engine restart."""

from __future__ import annotations

import asyncio
import collections
import itertools
from pathlib import Path

from engine.ari.client import AriClient
from engine.dialer.campaign_pacing import CampaignPacing
from engine.dialer.pacing.learning import Learned
from engine.models import CallOutcome, VoterStatus
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import SimVolunteer, make_campaign, running_engine, voters_csv
from tests.helpers import wait_until
from tests.integration.test_engine_shift import answer_calls

LIST = (
    [("10", v) for v in range(4)]
    + [("31", v) for v in range(10)]
    + [(code, v) for code in ("30", "32", "34") for v in range(4)]
    + [("20", v) for v in range(4)]
)


async def test_predictive_over_dials_within_its_cap_and_remembers_what_it_learned(
    pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog], tmp_path: Path
) -> None:
    database = tmp_path / "predictive.db"
    async with running_engine(pbx_pair, database) as engine:
        assert engine.dialer is not None and engine.telephony is not None
        campaign = await make_campaign(
            engine, voters_csv(LIST), dial_mode="predictive", max_lines_per_volunteer=4
        )
        volunteers = [await SimVolunteer.sign_in(engine, campaign, n) for n in range(2)]
        for volunteer in volunteers:
            await volunteer.call_in(pbx_pair, carrier)
        peak = 0
        telephony = engine.telephony
        assert telephony is not None

        async def watch(stop: asyncio.Event) -> None:
            nonlocal peak
            while not stop.is_set():
                dialing, connecting = telephony.calls.in_flight(campaign.id)
                peak = max(peak, dialing + connecting)
                await asyncio.sleep(0.05)

        stop = asyncio.Event()
        watcher = asyncio.create_task(watch(stop))
        for volunteer in volunteers:
            await engine.volunteers.start_calling(volunteer.session.id)
        workers = [asyncio.create_task(answer_calls(v, stop)) for v in volunteers]

        async def list_finished() -> bool:
            counts = await engine.store.voter_counts(campaign.id)
            return not counts.get(VoterStatus.PENDING) and not counts.get(VoterStatus.IN_FLIGHT)

        await wait_until(list_finished, timeout=180, what="the list to be worked")
        await wait_until(lambda: not telephony.calls.by_channel, timeout=30, what="the last calls")
        stop.set()
        await asyncio.gather(watcher, *workers)

        # More calls at once than ready volunteers, but never more than the cap allows.
        assert 2 < peak <= 2 * 4, peak
        attempts = await engine.store.list_attempts(campaign.id)
        assert len(attempts) == len(LIST)
        assert len({a.phone for a in attempts}) == len(LIST)  # each voter dialed once
        contacts = [a for a in attempts if a.outcome == CallOutcome.CONTACT]
        abandoned = [a for a in attempts if a.outcome == CallOutcome.ABANDONED]
        assert len(contacts) + len(abandoned) == 4
        # No volunteer had two voters at once.
        by_session = collections.defaultdict(list)
        for a in contacts:
            assert a.bridged_at is not None and a.ended_at is not None
            by_session[a.session_id].append((a.bridged_at, a.ended_at))
        for spans in by_session.values():
            spans.sort()
            assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))
        # The dashboard counts what happened.
        stats = await engine.operators.stats(campaign.id)
        assert stats["dial_mode"] == "predictive"
        assert (stats["abandons_30_days"], stats["live_answers_30_days"]) == (len(abandoned), 4)
        assert stats["pacing"]["learned"]["calls_seen"] > 0  # learning while it dials
        for volunteer in volunteers:
            await engine.volunteers.log_out(volunteer.session.id)
            assert volunteer.phone is not None
            await volunteer.phone.wait_hung_up(timeout=15)

    # The engine stopped and saved what it learned; a new engine picks it up.
    async with running_engine(pbx_pair, database) as engine:
        text = await engine.store.load_pacing(campaign.id)
        assert text is not None
        learned = Learned.from_json(text)
        assert learned.calls_seen == len(LIST)
        counted = learned.placed.counts["person"] + learned.placed.young_people()
        assert counted == 4  # counted, or too recent to count but known to be people
        assert len(learned.wrap_up_s) == len(contacts)
        pacing = await CampaignPacing.load(engine.store, await engine.store.get_campaign(1))
        assert pacing.learned.to_json() == text
