"""The event bus between engines on a real PostgreSQL server: two engines' notifiers relayed
to each other (each event once, in order, never echoed), messages past NOTIFY's size limit,
request/reply with its timeout, and reconnection after the server drops a bus connection."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from engine.cluster.bus import MAX_BODY, LocalBus, Message, PgBus
from engine.cluster.connection import connect
from engine.cluster.relay import TOPIC, NotifierRelay, RelayOutbox
from engine.cluster.remote import NodeActions, RemoteCalls
from engine.errors import ClusterUnavailable, InvalidInput, NotFound, RemoteCallFailed
from engine.notifier import Event, Notifier, PinInUseEvent
from testbed.waiting import wait_until
from tests.cluster.frozen_link import frozen_link

CAMPAIGN, SESSION = 1, 7


@dataclass
class Side:
    """One engine's share of the bus: its bus, notifier and relay."""

    bus: PgBus
    notifier: Notifier


@contextlib.asynccontextmanager
async def engines(dsn: str, *names: str) -> AsyncIterator[list[Side]]:
    """Engines ``names`` with a bus and a relayed notifier each, all listening."""
    sides, tasks = [], []
    for name in names:
        bus, outbox = PgBus(dsn, name), RelayOutbox()
        notifier = Notifier(outbox.put)
        sides.append(Side(bus, notifier))
        tasks += [asyncio.create_task(bus.run())]
        tasks += [asyncio.create_task(NotifierRelay(bus, notifier, outbox).run())]
    try:
        for side in sides:
            await asyncio.wait_for(side.bus.listening.wait(), 10)
        yield sides
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def pin_event(n: int, origin: str) -> PinInUseEvent:
    return {"type": "pin_in_use", "session_id": SESSION, "message": f"{origin} {n}"}


def drained(queue: asyncio.Queue[Event]) -> list[str]:
    out = []
    while not queue.empty():
        out.append(queue.get_nowait()["message"])
    return out


async def test_two_relays_deliver_each_others_events_once_in_order(cluster_dsn: str) -> None:
    async with engines(cluster_dsn, "a", "b") as (a, b):
        with (
            a.notifier.session_events(SESSION) as on_a,
            b.notifier.session_events(SESSION) as on_b,
            b.notifier.campaign_events(CAMPAIGN) as dashboard_b,
            a.bus.subscribe(TOPIC) as wire_a,
        ):
            for n in range(50):
                a.notifier.publish(CAMPAIGN, SESSION, pin_event(n, "a"))
                b.notifier.publish(CAMPAIGN, SESSION, pin_event(n, "b"))
            a.notifier.publish(CAMPAIGN, SESSION, pin_event(99, "a-done"))
            await wait_until(lambda: on_b.qsize() == 101, 10, "a's events at b")
            # b answers last: anything b echoed of a's events would reach a before this.
            b.notifier.publish(CAMPAIGN, SESSION, pin_event(99, "b-done"))
            await wait_until(lambda: on_a.qsize() == 102, 10, "b's events at a")
            at_a, at_b = drained(on_a), drained(on_b)
            wire = [wire_a.get_nowait() for _ in range(wire_a.qsize())]
        for seen in (at_a, at_b):
            for origin in ("a", "b"):
                assert [m for m in seen if m.startswith(f"{origin} ")] == [
                    f"{origin} {n}" for n in range(50)
                ], f"{origin}'s events once each, in order"
        assert at_b[-2:] == ["a-done 99", "b-done 99"] and at_a[-1] == "b-done 99"
        assert dashboard_b.qsize() == 102, "the campaign's dashboards get them too"
        origins = [m.origin for m in wire]
        assert origins.count("a") == 51 and origins.count("b") == 51, "nothing echoed back"


async def test_a_message_too_large_for_notify_goes_through_the_table(cluster_dsn: str) -> None:
    async with engines(cluster_dsn, "a", "b") as (a, b):
        with b.bus.subscribe("cards") as cards:
            big = {"notes": "x" * 20_000, "n": 1}
            await a.bus.publish("cards", big)
            await a.bus.publish("cards", {"n": 2})
            first = await asyncio.wait_for(cards.get(), 5)
            second = await asyncio.wait_for(cards.get(), 5)
        assert (first.payload, first.origin) == (big, "a") and second.payload == {"n": 2}
        with pytest.raises(InvalidInput, match="at most"):
            await a.bus.publish("cards", {"notes": "x" * MAX_BODY})


async def test_a_call_is_served_by_the_engine_that_owns_the_node(cluster_dsn: str) -> None:
    async def hang_up(node: str, args: dict[str, Any]) -> dict[str, Any]:
        if args["session_id"] == 0:
            raise NotFound("There is no session with id 0.")
        return {"node": node, "hung_up": args["session_id"]}

    async with engines(cluster_dsn, "a", "b") as (a, b):
        owner = NodeActions(a.bus, lambda: {"n1"}, {"hang_up": hang_up})
        caller = RemoteCalls(b.bus)
        tasks = [asyncio.create_task(owner.run()), asyncio.create_task(caller.run())]
        try:
            took = []
            for session_id in range(1, 11):
                started = time.monotonic()
                reply = await caller.call("n1", "hang_up", {"session_id": session_id}, timeout=5)
                took.append(time.monotonic() - started)
                assert reply == {"node": "n1", "hung_up": session_id}
            with pytest.raises(NotFound, match="no session with id 0"):
                await caller.call("n1", "hang_up", {"session_id": 0}, timeout=5)
            with pytest.raises(RemoteCallFailed, match="no action"):
                await caller.call("n1", "dance", {}, timeout=5)
            started = time.monotonic()
            with pytest.raises(RemoteCallFailed, match="No engine answered"):
                await caller.call("n2", "hang_up", {"session_id": 5}, timeout=0.5)
            waited = time.monotonic() - started
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    first, median = took[0] * 1000, sorted(took)[5] * 1000
    print(f"request/reply: first {first:.1f} ms, median {median:.1f} ms; timeout {waited:.2f} s")
    assert 0.5 <= waited < 1.5


async def test_the_bus_reconnects_after_its_connections_are_terminated(cluster_dsn: str) -> None:
    async with engines(cluster_dsn, "a", "b") as (a, b):
        with b.bus.subscribe("t") as inbox:
            await a.bus.publish("t", {"n": 1})
            assert (await asyncio.wait_for(inbox.get(), 5)).payload == {"n": 1}
            async with await connect(cluster_dsn, "test") as admin:
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE"
                    " application_name IN ('phonebank listen b', 'phonebank bus a')"
                )
            cut = time.monotonic()
            await wait_until(lambda: not b.bus.listening.is_set(), 5, "b to notice")
            await asyncio.wait_for(b.bus.listening.wait(), 10)
            print(f"listener back after {time.monotonic() - cut:.2f} s")
            await a.bus.publish("t", {"n": 2})  # a's publisher reconnects on the way
            message = await asyncio.wait_for(inbox.get(), 5)
        assert (message.payload, message.origin) == ({"n": 2}, "a")


async def test_with_sqlite_the_bus_and_relay_stay_in_the_process() -> None:
    bus, outbox = LocalBus("solo"), RelayOutbox()
    notifier = Notifier(outbox.put)
    relay = asyncio.create_task(NotifierRelay(bus, notifier, outbox).run())
    try:
        with notifier.session_events(SESSION) as events, bus.subscribe(TOPIC) as wire:
            notifier.publish(CAMPAIGN, SESSION, pin_event(1, "solo"))
            message: Message = await asyncio.wait_for(wire.get(), 2)
            assert message.origin == "solo"
            await asyncio.sleep(0)  # the relay has the same message and must ignore it
            assert drained(events) == ["solo 1"]
    finally:
        relay.cancel()
        await asyncio.gather(relay, return_exceptions=True)


async def test_a_publish_into_a_silent_network_fails_in_seconds(cluster_dsn: str) -> None:
    """No error, no FIN, nothing arrives: publish gives up by its own deadline (two tries of
    3 s) with ClusterUnavailable, and this engine's own subscribers have the message anyway."""
    parts = conninfo_to_dict(cluster_dsn)
    async with frozen_link(str(parts["host"]), int(str(parts["port"]))) as link:
        bus = PgBus(make_conninfo(cluster_dsn, port=link.port), "cut-off")
        with bus.subscribe("t") as inbox:
            await bus.publish("t", {"n": 1})
            link.freeze()
            started = time.monotonic()
            with pytest.raises(ClusterUnavailable, match="cannot be reached"):
                await bus.publish("t", {"n": 2})
            took = time.monotonic() - started
        assert [inbox.get_nowait().payload for _ in range(2)] == [{"n": 1}, {"n": 2}]
    print(f"publish into a silent network failed after {took:.1f} s")
    assert took < 8


async def test_malformed_notifications_and_requests_are_skipped(cluster_dsn: str) -> None:
    """Someone else's NOTIFY on the channel, an envelope of the wrong shape, a request without
    an id, an event that is not a delivery: each is logged and skipped; the bus, the relay and
    the node's actions go on serving."""

    async def echo(node: str, args: dict[str, Any]) -> dict[str, Any]:
        return {"node": node, **args}

    async with engines(cluster_dsn, "a", "b") as (a, b):
        owner = NodeActions(a.bus, lambda: {"n1"}, {"echo": echo})
        caller = RemoteCalls(b.bus)
        tasks = [asyncio.create_task(owner.run()), asyncio.create_task(caller.run())]
        try:
            async with await connect(cluster_dsn, "test") as conn:
                for junk in ("not json", '{"o": "x", "t": "t", "p": [1]}', '{"o": "x"}'):
                    await conn.execute("SELECT pg_notify('phonebank_bus', %s)", (junk,))
            await b.bus.publish("call", {"node": "n1", "action": "echo"})  # no id, no args
            await b.bus.publish(TOPIC, {"event": {"type": "x"}})  # not a delivery
            with a.notifier.session_events(SESSION) as on_a:
                b.notifier.publish(CAMPAIGN, SESSION, pin_event(1, "b"))
                event = await asyncio.wait_for(on_a.get(), 5)
            assert event["message"] == "b 1"
            assert await caller.call("n1", "echo", {"n": 3}, timeout=5) == {"node": "n1", "n": 3}
            assert not any(task.done() for task in tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
