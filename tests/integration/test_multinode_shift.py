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
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.app import Engine, NodeSpec
from engine.ari.client import AriClient, AriSettings
from engine.audio.sounds import SoundLibrary
from engine.config import load_config
from engine.models import CallOutcome, VoterStatus
from engine.pbx.run import PbxRun
from testbed.behaviours import behaviour_of, voter_number
from testbed.events import EventLog
from testbed.kamailio import KamailioFront
from testbed.nodes import running_carrier_behind, running_node, used_ports
from testbed.pair import PbxPair
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
        await asyncio.gather(*(v.call_in(pbx_pair, bed_carrier) for v in volunteers))
        on_node = collections.Counter([(await v.refresh()).node for v in volunteers])
        assert set(on_node) == set(NODES), on_node  # call-load spread them over both
        for volunteer in volunteers:
            await engine.volunteers.start_calling(volunteer.session.id)
        stop = asyncio.Event()
        workers = [asyncio.create_task(answer_calls(v, stop)) for v in volunteers]

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
