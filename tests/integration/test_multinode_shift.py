"""One engine driving two dialer nodes behind Kamailio, on PostgreSQL (issue 16, items 2, 3
and 5): volunteers' call-ins reach the nodes through Kamailio, and every voter's call leaves
through it to a carrier simulator that sees only Kamailio's address.

The bed: Kamailio (testbed/kamailio.py), two dialer nodes linked to it (testbed/nodes.py), a
carrier simulator of its own trunked to Kamailio (the pair's carrier only trusts the pair's
dialer), and the engine with one NodeSpec per node. The pair itself lends its voices and
call-in number.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import itertools
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.app import Engine, NodeSpec
from engine.ari.client import AriClient, AriSettings
from engine.audio.sounds import SoundLibrary
from engine.config import load_config
from engine.errors import PhonebankError
from engine.models import AfterResult, Attempt, CallOutcome, SessionState, VoterStatus
from engine.pbx.run import PbxRun
from engine.telephony.runtime import NODE_LOST_S
from testbed.behaviours import behaviour_of, voter_number
from testbed.events import EventLog
from testbed.kamailio import KamailioFront
from testbed.nodes import kill, restart, running_carrier_behind, running_node, used_ports
from testbed.pair import PbxPair
from testbed.phones import VolunteerPhone
from testbed.shift import SOUNDS, SimVolunteer, make_campaign, voters_csv
from tests.conftest import ari_with_events
from tests.helpers import wait_until
from tests.integration.test_engine_shift import answer_calls
from tests.integration.test_kamailio_front import keep_logs

NODES = ("node1", "node2")
LIVE = [("10", v) for v in range(14)]
LIST = LIVE + [("20", v) for v in range(4)] + [("30", v) for v in range(4)]
DNC = [voter_number("10", 60 + v) for v in range(2)]


@dataclass
class Bed:
    front: KamailioFront
    nodes: dict[str, PbxRun]
    carrier: PbxRun


@pytest.fixture(scope="module")
def bed(pbx_pair: PbxPair, artifacts: Path) -> Iterator[Bed]:
    cfg = load_config().pbx
    front = KamailioFront.prepare()
    avoid = used_ports(pbx_pair)
    try:
        with contextlib.ExitStack() as stack:
            nodes = {}
            for name in NODES:
                tag = f"test-{os.getpid()}-multi-{name}"
                nodes[name] = stack.enter_context(running_node(cfg, tag, front.link, avoid))
                avoid |= used_ports(nodes[name])
            carrier = stack.enter_context(
                running_carrier_behind(
                    cfg, pbx_pair, f"test-{os.getpid()}-multi-carrier", front.port, avoid
                )
            )
            front.start(
                {name: node.dialer.spec.sip_port for name, node in nodes.items()},
                carrier_port=carrier.instance("carrier").spec.sip_port,
            )
            try:
                yield Bed(front, nodes, carrier)
            finally:
                keep_logs(artifacts / "multinode", front, nodes)
    finally:
        front.stop()


@pytest.fixture
async def bed_carrier(bed: Bed) -> AsyncIterator[tuple[AriClient, EventLog]]:
    async with ari_with_events(bed.carrier.instance("carrier")) as pair:
        yield pair


async def all_nodes_answering(bed: Bed) -> None:
    """Wait until Kamailio has found every node alive (their OPTIONS probes answered): until
    then it sends every call-in to the nodes it knows, and the spread tests would fail."""
    await wait_until(
        lambda: set(bed.front.destinations().values()) == {"active"},
        timeout=bed.front.detection_bound + 5,
        what="Kamailio to see every node answer",
    )


@contextlib.asynccontextmanager
async def multinode_engine(bed: Bed, database: str) -> AsyncIterator[Engine]:
    """The engine on PostgreSQL with one [[nodes]] entry per dialer node of the bed."""
    cfg = load_config()
    cfg = dataclasses.replace(cfg, engine=dataclasses.replace(cfg.engine, database=database))
    specs = []
    for name, node in bed.nodes.items():
        spec = node.dialer.spec
        ari = AriSettings(spec.ari_url, spec.ari_user, spec.ari_password, spec.ari_app)
        specs.append(NodeSpec(name, ari, f"{spec.ari_url.replace('http', 'ws')}/ws"))
    runtime = next(iter(bed.nodes.values())).dialer.runtime
    sounds = SoundLibrary(runtime.host_path(SOUNDS), SOUNDS)
    async with Engine.running(cfg, sounds=sounds, nodes=specs) as engine:
        yield engine


async def watch_bridges(
    engine: Engine, campaign_id: int, stop: asyncio.Event, seen: dict[int, bool]
) -> None:
    """Until ``stop``: for each talking session, ask its node's ARI whether the session's
    bridge holds the voter's channel; ``seen[attempt id]`` is True once it did (a single
    look can fall between the session turning TALKING and the voter joining, or leaving)."""
    while not stop.is_set():
        for session in await engine.store.live_sessions(campaign_id):
            if session.state != SessionState.TALKING or session.attempt_id is None:
                continue
            attempt = await engine.store.get_attempt(session.attempt_id)
            bridges = await engine.nodes[session.node].ari.list_bridges()
            held = {b["id"]: b.get("channels", []) for b in bridges}.get(session.bridge_id or "")
            if held is not None:
                ok = attempt.channel_id in held
                seen[attempt.id] = seen.get(attempt.id, False) or ok
        await asyncio.sleep(0.3)


async def test_ten_volunteers_split_over_two_nodes_work_a_list_through_kamailio(
    pbx_pair: PbxPair,
    bed: Bed,
    bed_carrier: tuple[AriClient, EventLog],
    postgres_dsn: str,
) -> None:
    async with multinode_engine(bed, postgres_dsn) as engine:
        for phone in DNC:
            await engine.operators.add_dnc("test", phone, None, "asked not to be called")
        rows = LIST + [("10", 60 + v) for v in range(len(DNC))]
        campaign = await make_campaign(engine, voters_csv(rows))
        volunteers = [await SimVolunteer.sign_in(engine, campaign, n) for n in range(10)]
        await all_nodes_answering(bed)
        await asyncio.gather(*(v.call_in(pbx_pair, bed_carrier) for v in volunteers))
        on_node = collections.Counter([(await v.refresh()).node for v in volunteers])
        assert set(on_node) == set(NODES), on_node  # call-load spread them over both
        for volunteer in volunteers:
            await engine.volunteers.start_calling(volunteer.session.id)
        stop = asyncio.Event()
        workers = [asyncio.create_task(answer_calls(v, stop)) for v in volunteers]
        seen: dict[int, bool] = {}
        watcher = asyncio.create_task(watch_bridges(engine, campaign.id, stop, seen))

        async def list_finished() -> bool:
            counts = await engine.store.voter_counts(campaign.id)
            return not counts.get(VoterStatus.PENDING) and not counts.get(VoterStatus.IN_FLIGHT)

        await wait_until(list_finished, timeout=60, what="the list to be worked")
        await wait_until(
            lambda: all(not n.telephony.calls.by_channel for n in engine.nodes.values()),
            timeout=20,
            what="the last calls to end",
        )
        stop.set()
        taken = await asyncio.gather(*workers)
        await watcher
        # Seen live on the nodes' ARI: each talking volunteer's bridge, on their node, held
        # the voter's channel.
        assert len(seen) >= 3 and all(seen.values()), seen

        attempts = await engine.store.list_attempts(campaign.id)
        by_number = collections.defaultdict(list)
        for attempt in attempts:
            by_number[attempt.phone].append(attempt)
        assert not set(DNC) & set(by_number)  # no DNC number dialed
        assert len(by_number) == len(LIST)  # every other voter dialed, once
        assert all(len(a) == 1 for a in by_number.values())
        contacts = [a for a in attempts if a.outcome == CallOutcome.CONTACT]
        abandoned = [a for a in attempts if a.outcome == CallOutcome.ABANDONED]
        assert len(contacts) + len(abandoned) == len(LIVE)  # reached or counted abandoned
        sessions = {v.session.id: await v.refresh() for v in volunteers}
        placed_by: collections.Counter[str] = collections.Counter()
        for attempt in attempts:
            behaviour = behaviour_of(attempt.phone)
            assert behaviour is not None
            node = (attempt.channel_id or "").split(".", 1)[0]
            assert node in NODES, attempt.channel_id
            placed_by[node] += 1
            if attempt.outcome == CallOutcome.CONTACT:
                assert attempt.session_id is not None and attempt.bridged_at
                # The voter's call was on its volunteer's node (bridged there).
                assert sessions[attempt.session_id].node == node, attempt
        assert set(placed_by) == set(NODES), placed_by  # both nodes dialed, via Kamailio
        assert sum(taken) == len(contacts)
        results = [c async for c in engine.operators.results_csv("test", campaign.id)]
        assert "".join(results).count("\n") == len(contacts) + 1  # every posted result kept
        assert "carrier" in bed.front.output(2000)  # the calls went out through Kamailio
        for volunteer in volunteers:
            await engine.volunteers.log_out(volunteer.session.id)


async def take_calls(volunteer: SimVolunteer, stop: asyncio.Event) -> list[int]:
    """As answer_calls, for a shift where a node dies: a result the session can no longer
    take (its phone gone meanwhile) is not counted. Returns the calls (attempt ids) whose
    result was accepted, once per acceptance."""
    kept: list[int] = []
    while not stop.is_set():
        try:
            session = await volunteer.wait_state(
                SessionState.TALKING, SessionState.WRAP_UP, timeout=1
            )
        except AssertionError:
            continue
        try:
            if session.state == SessionState.TALKING:
                await asyncio.sleep(1.0)
                if (await volunteer.refresh()).state == SessionState.TALKING:
                    await volunteer.engine.volunteers.end_call(session.id)
                await volunteer.wait_state(SessionState.WRAP_UP, timeout=10)
            result = await volunteer.engine.volunteers.submit_result(
                session.id, "talked", {"support": "yes"}, "", then=AfterResult.READY
            )
            kept.append(result.attempt_id)
        except PhonebankError:
            continue
    return kept


def overlapping(attempts: list[Attempt]) -> bool:
    """Whether two attempts on one number were in flight at once."""
    spans = sorted((a.claimed_at, a.ended_at) for a in attempts)
    return any(
        end is None or later is None or later < end
        for (_, end), (later, _) in itertools.pairwise(spans)
    )


async def test_a_killed_node_ends_its_volunteers_sessions_and_they_call_back_in_elsewhere(
    pbx_pair: PbxPair,
    bed: Bed,
    bed_carrier: tuple[AriClient, EventLog],
    postgres_dsn: str,
) -> None:
    """kill -9 one node mid-shift: within NODE_LOST_S its volunteers' sessions lose their
    phone (the page says so), its calls end and their voters are given back; they call back
    in through Kamailio, land on the other node and the list is worked to the end, with no
    result lost, no voter left claimed and no voter dialed twice at once."""
    async with multinode_engine(bed, postgres_dsn) as engine:
        rows = [("10", 70 + v) for v in range(24)] + [("20", 70 + v) for v in range(4)]
        campaign = await make_campaign(engine, voters_csv(rows))
        volunteers = [await SimVolunteer.sign_in(engine, campaign, n) for n in range(6)]
        await asyncio.gather(*(v.call_in(pbx_pair, bed_carrier) for v in volunteers))
        for volunteer in volunteers:
            await engine.volunteers.start_calling(volunteer.session.id)
        stop = asyncio.Event()
        workers = [asyncio.create_task(take_calls(v, stop)) for v in volunteers]

        async def some_contacts() -> bool:
            attempts = await engine.store.list_attempts(campaign.id)
            return sum(a.outcome == CallOutcome.CONTACT for a in attempts) >= 4

        await wait_until(some_contacts, timeout=40, what="the shift to be under way")
        victim = (await volunteers[0].refresh()).node
        survivor = next(name for name in NODES if name != victim)
        on_victim = [v for v in volunteers if (await v.refresh()).node == victim]
        kill(bed.nodes[victim].dialer)
        killed = time.monotonic()
        try:

            async def phones_dropped() -> bool:
                return all([(await v.refresh()).channel_id is None for v in on_victim])

            await wait_until(phones_dropped, timeout=NODE_LOST_S + 5, what="sessions to end")
            print(f"node lost: sessions told after {time.monotonic() - killed:.1f} s")
            for volunteer in on_victim:
                session = await volunteer.refresh()
                view = await engine.volunteers.view(session.id)
                assert not view["phone"] and view["message"], view  # phone gone, and why
                assert session.state != SessionState.TALKING
            await wait_until(
                lambda: bed.front.destinations()[victim] == "inactive",
                timeout=bed.front.detection_bound + 2,
                what="Kamailio to drop the dead node",
            )
            for volunteer in on_victim:  # they call back in
                phone = await VolunteerPhone.call_in(pbx_pair, *bed_carrier)
                await phone.send_dtmf(volunteer.session.pin)

                async def back(v: SimVolunteer = volunteer) -> bool:
                    return (await v.refresh()).channel_id is not None

                await wait_until(back, timeout=20, what="the volunteer to be back")
                assert volunteer.session.node == survivor
                if volunteer.session.state != SessionState.READY:
                    with contextlib.suppress(PhonebankError):
                        await engine.volunteers.start_calling(volunteer.session.id)

            async def list_finished() -> bool:
                counts = await engine.store.voter_counts(campaign.id)
                return not counts.get(VoterStatus.PENDING) and not counts.get(VoterStatus.IN_FLIGHT)

            await wait_until(list_finished, timeout=60, what="the list to be worked")
            await wait_until(
                lambda: not engine.nodes[survivor].telephony.calls.by_channel,
                timeout=20,
                what="the last calls to end",
            )
            stop.set()
            kept = [a for taken in await asyncio.gather(*workers) for a in taken]
            attempts = await engine.store.list_attempts(campaign.id)
            assert all(a.ended_at is not None for a in attempts)  # no voter left claimed
            by_number = collections.defaultdict(list)
            for attempt in attempts:
                by_number[attempt.phone].append(attempt)
            assert not [p for p, a in by_number.items() if overlapping(a)]  # no double dial
            results = [c async for c in engine.operators.results_csv("test", campaign.id)]
            assert len(kept) == len(set(kept))  # no call's result accepted twice
            assert "".join(results).count("\n") - 1 >= len(kept)  # every posted result kept
            for volunteer in volunteers:
                await engine.volunteers.log_out(volunteer.session.id)
        finally:
            stop.set()
            restart(bed.nodes[victim])
