"""Kamailio in front of two dialer nodes (issue 16, items 3 and 5), through real SIP.

The carrier simulator of the PBX pair sends volunteers' call-ins to Kamailio's address; the
dispatcher passes each to the node with the fewest calls among the healthy ones. Two extra
dialer nodes (testbed/nodes.py) sit behind it, each linked to Kamailio as its carrier; the
pair's own dialer PBX is not used here (it only accepts calls from the simulator's address).
The test plays the engine on each node: it listens as the Stasis app 'phonebank', answers the
call-in and plays the PIN prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.ari.client import AriClient
from engine.config import load_config
from engine.pbx.run import PbxRun
from testbed.events import Event, EventLog
from testbed.kamailio import KamailioFront
from testbed.nodes import draining, kill, restart, running_node, used_ports
from testbed.pair import PbxPair
from testbed.phones import VolunteerPhone
from testbed.waiting import wait_until
from tests.conftest import ari_with_events

NODES = ("node1", "node2")
MARGIN_S = 1.5
"""Allowed beyond the front's detection bound (timer granularity, a busy 2-core machine)."""


@dataclass
class Bed:
    front: KamailioFront
    nodes: dict[str, PbxRun]


@pytest.fixture(scope="module")
def bed(pbx_pair: PbxPair, artifacts: Path) -> Iterator[Bed]:
    """Kamailio and two dialer nodes behind it, started once for this module."""
    cfg = load_config().pbx
    front = KamailioFront.prepare()
    avoid = used_ports(pbx_pair)
    try:
        with contextlib.ExitStack() as stack:
            nodes = {}
            for name in NODES:
                tag = f"test-{os.getpid()}-{name}"
                nodes[name] = stack.enter_context(running_node(cfg, tag, front.link, avoid))
                avoid |= used_ports(nodes[name])
            front.start({name: node.dialer.spec.sip_port for name, node in nodes.items()})
            try:
                yield Bed(front, nodes)
            finally:
                keep_logs(artifacts / "kamailio-front", front, nodes)
    finally:
        front.stop()


def keep_logs(target: Path, front: KamailioFront, nodes: dict[str, PbxRun]) -> None:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    (target / "kamailio.log").write_text(front.output(lines=100_000))
    for name, node in nodes.items():
        shutil.copytree(node.dialer.path("log"), target / name)


Listeners = dict[str, tuple[AriClient, EventLog]]


@contextlib.asynccontextmanager
async def listening(bed: Bed, names: tuple[str, ...] = NODES) -> AsyncIterator[Listeners]:
    """Each named node's ARI as the Stasis app 'phonebank' (the engine's), with its events."""
    async with contextlib.AsyncExitStack() as stack:
        yield {
            name: await stack.enter_async_context(ari_with_events(bed.nodes[name].dialer))
            for name in names
        }


def is_callin(event: Event) -> bool:
    return event.get("type") == "StasisStart" and event.get("args", [])[:1] == ["callin"]


async def arrival(listeners: Listeners, marks: dict[str, int], timeout: float) -> tuple[str, str]:
    """The node whose Stasis app a new call-in reached first, and its channel id."""
    waits = {
        asyncio.create_task(events.wait_for(is_callin, timeout, "call-in", since=marks[name])): name
        for name, (_, events) in listeners.items()
    }
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    first = done.pop()
    return waits[first], first.result()["channel"]["id"]


async def call_in(
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    bed: Bed,
    listeners: Listeners,
    timeout: float = 10.0,
) -> tuple[str, VolunteerPhone]:
    """A volunteer's phone calls in through Kamailio; the node that gets the call answers it
    and plays the PIN prompt. Returns the node's name and the phone (answered)."""
    name, _, phone = await call_in_on(pbx_pair, carrier, bed, listeners, timeout)
    return name, phone


async def call_in_on(
    pbx_pair: PbxPair,
    carrier: tuple[AriClient, EventLog],
    bed: Bed,
    listeners: Listeners,
    timeout: float = 10.0,
) -> tuple[str, str, VolunteerPhone]:
    """As call_in, also returning the call's channel id on the node."""
    ari, events = carrier
    marks = {name: log.mark() for name, (_, log) in listeners.items()}
    dialing = asyncio.create_task(
        VolunteerPhone.call_in(pbx_pair, ari, events, via=bed.front.address)
    )
    try:
        name, channel_id = await arrival(listeners, marks, timeout)
        node_ari = listeners[name][0]
        await node_ari.answer(channel_id)
        await node_ari.play("channels", channel_id, "sound:conf-getpin")
        return name, channel_id, await dialing
    except BaseException:
        dialing.cancel()
        raise


async def hang_up_all(phones: list[VolunteerPhone], listeners: Listeners) -> None:
    """End every call from the phone's side (the BYE passes Kamailio and ends the call's load
    there) and wait until the nodes have no channel left."""
    for phone in phones:
        await phone.hangup()

    async def nodes_idle() -> bool:
        return all([not await ari.list_channels() for ari, _ in listeners.values()])

    await wait_until(nodes_idle, timeout=10, what="the nodes' channels to end")


async def test_call_ins_reach_a_node_through_kamailio_and_spread_over_both(
    pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog], bed: Bed
) -> None:
    """Four call-ins held at once: call-load distribution gives each node two. A node's
    hangup reaches the carrier through Kamailio."""
    assert bed.front.destinations() == {"node1": "active", "node2": "active"}
    phones: list[VolunteerPhone] = []
    async with listening(bed) as listeners:
        try:
            landed = []
            for _ in range(4):
                name, channel_id, phone = await call_in_on(pbx_pair, carrier, bed, listeners)
                landed.append((name, channel_id))
                phones.append(phone)
            assert sorted(name for name, _ in landed) == ["node1", "node1", "node2", "node2"]
            for name, (ari, _) in listeners.items():
                states = [c["state"] for c in await ari.list_channels()]
                assert states == ["Up", "Up"], (name, states)
            # A node ends a call: its BYE reaches the phone along the recorded route.
            name, channel_id = landed[0]
            await listeners[name][0].hangup(channel_id)
            await phones[0].wait_hung_up()
        finally:
            await hang_up_all(phones, listeners)


async def test_a_dead_node_leaves_the_rotation_within_its_probe_interval(
    pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog], bed: Bed
) -> None:
    """node2 killed: Kamailio's OPTIONS probe marks it inactive within the probe interval
    plus the probe's timeout, and every call-in goes to node1; restarted, it is back."""
    front, node2 = bed.front, bed.nodes["node2"]
    phones: list[VolunteerPhone] = []
    async with listening(bed, ("node1",)) as listeners:
        try:
            kill(node2.dialer)
            killed = time.monotonic()
            await wait_until(
                lambda: front.destinations()["node2"] == "inactive",
                timeout=front.detection_bound + MARGIN_S,
                what="Kamailio to mark the dead node inactive",
            )
            print(f"dead node out of the rotation after {time.monotonic() - killed:.2f} s")
            for _ in range(3):
                name, phone = await call_in(pbx_pair, carrier, bed, listeners)
                phones.append(phone)
                assert name == "node1"
        finally:
            await hang_up_all(phones, listeners)
    restart(node2)
    started = time.monotonic()
    await wait_until(
        lambda: front.destinations()["node2"] == "active",
        timeout=front.detection_bound + MARGIN_S,
        what="Kamailio to take the restarted node back",
    )
    print(f"restarted node back in the rotation after {time.monotonic() - started:.2f} s")
    async with listening(bed) as listeners:
        first, phone = await call_in(pbx_pair, carrier, bed, listeners)
        second, other = await call_in(pbx_pair, carrier, bed, listeners)
        await hang_up_all([phone, other], listeners)
    assert {first, second} == {"node1", "node2"}


async def test_a_call_in_sent_to_a_node_that_just_died_goes_to_the_other(
    pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog], bed: Bed
) -> None:
    """One node holds a call, so by load the next goes to the other; that one dies before any
    probe notices: the call-in gets no reply there, Kamailio marks it inactive and sends the
    call to the first node (ds_next_dst), so the volunteer still gets through."""
    front = bed.front
    phones = []
    async with listening(bed) as listeners:
        busy, phone = await call_in(pbx_pair, carrier, bed, listeners)
        phones.append(phone)
        idle = next(name for name in NODES if name != busy)
        alive = {busy: listeners[busy]}
        try:
            kill(bed.nodes[idle].dialer)
            assert front.destinations()[idle] == "active"
            started = time.monotonic()
            name, phone = await call_in(pbx_pair, carrier, bed, alive)
            phones.append(phone)
            print(f"call-in failed over in {time.monotonic() - started:.2f} s")
            assert name == busy
            assert front.destinations()[idle] == "inactive"
        finally:
            await hang_up_all(phones, alive)
    restart(bed.nodes[idle])
    await wait_until(
        lambda: front.destinations()[idle] == "active",
        timeout=front.detection_bound + MARGIN_S,
        what="Kamailio to take the restarted node back",
    )


async def test_a_draining_node_leaves_the_rotation_and_its_503_sends_a_call_in_on(
    pbx_pair: PbxPair, carrier: tuple[AriClient, EventLog], bed: Bed
) -> None:
    """`core stop gracefully` on the node with fewer calls: its 503 to the probes takes it out
    of the rotation. Marked active again by hand (probes paused), it is chosen for the next
    call-in by load, refuses it with 503, and Kamailio sends the call to the other node."""
    front = bed.front
    phones = []
    async with listening(bed) as listeners:
        landed = []
        for _ in range(3):
            name, phone = await call_in(pbx_pair, carrier, bed, listeners)
            landed.append(name)
            phones.append(phone)
        drained = min(NODES, key=landed.count)
        other = next(name for name in NODES if name != drained)
        try:
            with draining(bed.nodes[drained].dialer):
                await wait_until(
                    lambda: front.destinations()[drained] == "inactive",
                    timeout=front.detection_bound + MARGIN_S,
                    what="Kamailio to take the draining node out",
                )
                front.probe(False)
                front.mark(drained, "active")
                name, phone = await call_in(pbx_pair, carrier, bed, listeners)
                phones.append(phone)
                assert name == other
                assert front.destinations()[drained] == "inactive"
                assert "failed with 503" in front.output(200)
                await hang_up_all(phones, {other: listeners[other]})
                await wait_until(
                    lambda: not bed.nodes[drained].dialer.running(),
                    timeout=10,
                    what="the drained node to stop after its last call",
                )
        finally:
            front.probe(True)
            await hang_up_all(phones, {other: listeners[other]})
    restart(bed.nodes[drained])
    await wait_until(
        lambda: front.destinations()[drained] == "active",
        timeout=front.detection_bound + MARGIN_S,
        what="Kamailio to take the restarted node back",
    )
