"""Two engines on one PostgreSQL take over each other's nodes (issue 16 item 4): "kill -9 one
engine mid-shift: another engine owns its nodes within 10 s; calls already bridged continue;
no result lost".

The bed of test_multinode_shift (Kamailio, two dialer nodes, a carrier behind Kamailio) and
two engines with both nodes in their [[nodes]]: engine B runs in this process (the test uses
its services as the web app would), engine A is the production command in a process of its
own (`python -m phonebank --config FILE run`, with its web app) so that it can be killed with
SIGKILL. B starts first and owns both nodes;
when A starts, B hands one to A. Two volunteers call in through Kamailio (one lands on each
node) and talk to voters; then A is killed while its volunteer's call is bridged.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp

from engine.app import Engine, NodeSpec
from engine.ari.client import AriClient, AriSettings
from engine.audio.sounds import SoundLibrary
from engine.config import load_config
from engine.models import AfterResult, SessionState, VoterStatus
from testbed.events import EventLog
from testbed.pair import PbxPair
from testbed.shift import SOUNDS, SimVolunteer, make_campaign, voters_csv
from tests.helpers import wait_until
from tests.integration.test_multinode_shift import (  # noqa: F401 (fixtures)
    NODES,
    Bed,
    all_nodes_answering,
    bed,
    bed_carrier,
    overlapping,
)

TAKEOVER_S = 10.0
VOTERS = [("10", v) for v in range(2)]


def node_entries(where: Bed) -> list[dict[str, str]]:
    entries = []
    for name, node in where.nodes.items():
        spec = node.dialer.spec
        entries.append(
            {
                "name": name,
                "ari_url": spec.ari_url,
                "ari_user": spec.ari_user,
                "ari_password": spec.ari_password,
                "ari_app": spec.ari_app,
                "ws_url": f"{spec.ari_url.replace('http', 'ws')}/ws",
            }
        )
    return entries


def sounds_of(where: Bed) -> SoundLibrary:
    runtime = next(iter(where.nodes.values())).dialer.runtime
    return SoundLibrary(runtime.host_path(SOUNDS), SOUNDS)


@contextlib.asynccontextmanager
async def engine_here(where: Bed, database: str, engine_id: str) -> AsyncIterator[Engine]:
    """Engine B: in this process."""
    cfg = load_config()
    cfg = dataclasses.replace(
        cfg, engine=dataclasses.replace(cfg.engine, database=database, engine_id=engine_id)
    )
    specs = [
        NodeSpec(
            e["name"],
            AriSettings(e["ari_url"], e["ari_user"], e["ari_password"], e["ari_app"]),
            e["ws_url"],
        )
        for e in node_entries(where)
    ]
    async with Engine.running(cfg, sounds=sounds_of(where), nodes=specs) as engine:
        yield engine


def engine_config(where: Bed, database: str, engine_id: str, path: Path) -> Path:
    """A phonebank.toml for one more engine on ``database`` driving the bed's nodes (as
    docs/scaling.md has it: each node's ARI, SIP address and where it reads the sounds)."""
    sounds = sounds_of(where)
    lines = [
        "[engine]",
        f"database = {json.dumps(database)}",
        f"engine_id = {json.dumps(engine_id)}",
        f"sounds_dir = {json.dumps(str(sounds.host_dir))}",
        "[web]",
        'host = "127.0.0.1"',
        "port = 0",
    ]
    for entry, node in zip(node_entries(where), where.nodes.values(), strict=True):
        entry |= {
            "sip_address": f"127.0.0.1:{node.dialer.spec.sip_port}",
            "sounds_dir": str(sounds.inner_dir),
        }
        del entry["ari_app"]  # the product's Stasis app is always 'phonebank'
        lines += ["[[nodes]]", *(f"{key} = {json.dumps(value)}" for key, value in entry.items())]
    path.write_text("\n".join(lines) + "\n")
    return path


@contextlib.contextmanager
def engine_process(
    where: Bed, database: str, engine_id: str, log_path: str
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Another engine: `phonebank run` in a process of its own, with its web app; yields it
    and its web URL (from what the command prints)."""
    config = engine_config(where, database, engine_id, Path(f"{log_path}.toml"))
    command = [sys.executable, "-m", "phonebank", "--config", str(config), "run"]
    env = os.environ | {"PHONEBANK_WEB_PORT": "0", "PHONEBANK_WEB_HOST": "127.0.0.1"}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    try:
        assert proc.stdout is not None
        printed: list[str] = []
        while not (url := web_url(printed)):
            line = proc.stdout.readline()
            assert line, ("".join(printed), Path(log_path).read_text()[-3000:])
            printed.append(line)
        assert any(f"engine {engine_id} on PostgreSQL" in line for line in printed), printed
        assert sum(line.startswith("node ") for line in printed) == len(where.nodes), printed
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def web_url(printed: list[str]) -> str:
    """The web app's URL from `phonebank run`'s "web app and API at URL ..." line, once
    printed."""
    for line in printed:
        if line.startswith("web app and API at "):
            return line.split()[5]
    return ""


async def health(url: str) -> dict[str, object]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/api/health") as reply:
        body: dict[str, object] = await reply.json()
        return body


async def bridged(ari: AriClient, bridge_id: str, channels: set[str]) -> bool:
    """Whether the bridge holds every one of ``channels``."""
    held = {b["id"]: set(b.get("channels", [])) for b in await ari.list_bridges()}
    return channels <= held.get(bridge_id, set())


async def call_of(engine: Engine, volunteer: SimVolunteer) -> tuple[str, str, set[str]]:
    """The talking volunteer's node, bridge and the two channels in it."""
    session = await volunteer.refresh()
    assert session.attempt_id is not None and session.bridge_id is not None
    attempt = await engine.store.get_attempt(session.attempt_id)
    return session.node, session.bridge_id, {attempt.channel_id or "", session.channel_id or ""}


async def holds(where: Bed, node: str, bridge_id: str, channels: set[str]) -> bool:
    """Whether the bridge on ``node`` holds ``channels``, asked of the node's ARI directly."""
    spec = where.nodes[node].dialer.spec
    watch = AriSettings(spec.ari_url, spec.ari_user, spec.ari_password, "takeover-watch")
    async with AriClient.connect(watch) as ari:
        return await bridged(ari, bridge_id, channels)


async def test_a_killed_engine_s_node_is_taken_over_and_its_bridged_call_goes_on(
    pbx_pair: PbxPair,
    bed: Bed,  # noqa: F811
    bed_carrier: tuple[AriClient, EventLog],  # noqa: F811
    postgres_dsn: str,
    tmp_path: os.PathLike[str],
) -> None:
    async with engine_here(bed, postgres_dsn, "engine-b") as b:
        assert b.cluster is not None and b.cluster.owned == frozenset(NODES)
        campaign = await make_campaign(b, voters_csv(VOTERS))
        volunteers, tokens = [], {}
        for n in range(2):
            signup = await b.volunteers.sign_up(f"Vol {n}", f"vol{n}@x.org", "+12025550111")
            signin = await b.volunteers.sign_in(
                signup.login_id, signup.password, campaign.name, "phone", f"test-{n}"
            )
            volunteers.append(SimVolunteer(b, signin.session))
            tokens[signin.session.id] = signin.token
        with engine_process(bed, postgres_dsn, "engine-a", f"{tmp_path}/engine-a.log") as (
            proc,
            a_url,
        ):
            # B hands one node over to A (two engines, two nodes: one each).
            async def one_each() -> bool:
                engine_a = (await health(a_url))["engine"]
                assert isinstance(engine_a, dict)
                return b.cluster is not None and len(b.cluster.owned) == len(engine_a["owns"]) == 1

            await wait_until(one_each, timeout=15, what="engine B to hand a node to engine A")
            a_engine = (await health(a_url))["engine"]
            assert isinstance(a_engine, dict)
            (a_node,) = a_engine["owns"]
            assert a_engine["engine_id"] == "engine-a" and a_node not in b.cluster.owned

            async def table_agrees() -> bool:
                """A's /api/health lists both engines alive with the nodes each drives."""
                listed = (await health(a_url))["engine"]
                assert isinstance(listed, dict) and b.cluster is not None
                engines = {e["engine_id"]: (e["alive"], e["nodes"]) for e in listed["engines"]}
                return engines == {
                    "engine-a": (True, [a_node]),
                    "engine-b": (True, sorted(b.cluster.owned)),
                }

            await wait_until(table_agrees, timeout=5, what="the engines table to agree")

            # Kamailio spreads call-ins by load over the nodes it has found alive (their
            # OPTIONS probes answered): wait for both, then call in one after the other.
            await all_nodes_answering(bed)
            for volunteer in volunteers:
                await volunteer.call_in(pbx_pair, bed_carrier)
            on_node = {(await v.refresh()).node: v for v in volunteers}
            assert set(on_node) == set(NODES), on_node  # Kamailio spread them
            theirs = on_node[a_node]
            ours = next(v for node, v in on_node.items() if node != a_node)
            async with aiohttp.ClientSession() as http:
                # A volunteer whose node engine B drives, with their page's WebSocket on
                # engine A's web; and B's subscribers of the session engine A drives.
                url = f"{a_url}/api/session/events?token={tokens[ours.session.id]}"
                async with http.ws_connect(url) as socket:
                    with b.notifier.session_events(theirs.session.id) as events_here:
                        for volunteer in volunteers:
                            await b.volunteers.start_calling(volunteer.session.id)
                        for volunteer in volunteers:
                            await volunteer.wait_state(SessionState.TALKING, timeout=30)
                        states = []
                        while not events_here.empty():
                            states.append(events_here.get_nowait().get("state"))
                        assert "talking" in states, states
                    on_a: list[object] = []
                    async with asyncio.timeout(5):
                        while "talking" not in on_a:
                            message = await socket.receive_json()
                            on_a.append(message.get("state"))
            session = await theirs.refresh()
            assert session.attempt_id is not None and session.bridge_id is not None
            attempt = await b.store.get_attempt(session.attempt_id)
            call = {attempt.channel_id or "", session.channel_id or ""}
            spec = bed.nodes[a_node].dialer.spec
            watch = AriSettings(spec.ari_url, spec.ari_user, spec.ari_password, "takeover-watch")
            async with AriClient.connect(watch) as ari:
                assert await bridged(ari, session.bridge_id, call)

                proc.send_signal(signal.SIGKILL)
                killed = time.monotonic()
                proc.wait(5)

                async def b_owns_both() -> bool:
                    return b.cluster is not None and b.cluster.owned == frozenset(NODES)

                await wait_until(b_owns_both, timeout=TAKEOVER_S + 5, what="B to take A's node")
                took = time.monotonic() - killed
                print(f"\nengine killed: its node {a_node} owned by engine B after {took:.1f} s")
                assert took < TAKEOVER_S
                # The bridged call goes on: both legs still up, still bridged, talking.
                await asyncio.sleep(2)
                assert await bridged(ari, session.bridge_id, call)
                assert (await theirs.refresh()).state == SessionState.TALKING

        # A new engine starts: B hands it a node, with its talking call, without hanging up;
        # the new owner adopts the call and B's web actions on it go to that engine.
        talking = {v.session.id: await call_of(b, v) for v in volunteers}
        started = time.monotonic()
        with engine_process(bed, postgres_dsn, "engine-c", f"{tmp_path}/engine-c.log") as (
            _,
            c_url,
        ):

            async def handed_over() -> bool:
                engine_c = (await health(c_url))["engine"]
                assert isinstance(engine_c, dict)
                return b.cluster is not None and len(b.cluster.owned) == len(engine_c["owns"]) == 1

            await wait_until(handed_over, timeout=15, what="engine B to hand a node to engine C")
            took = time.monotonic() - started
            print(f"engine C started: handed a node with a talking call {took:.1f} s after")
            await asyncio.sleep(1)
            for node, bridge_id, channels in talking.values():
                assert await holds(bed, node, bridge_id, channels), (node, bridge_id)
            # Results posted afterwards, on engine B, are kept; ending the call on the node
            # engine C drives goes through C.
            for volunteer in volunteers:
                current = await volunteer.refresh()
                assert current.state == SessionState.TALKING
                await b.volunteers.end_call(current.id)
                await volunteer.wait_state(SessionState.WRAP_UP, timeout=15)
                await b.volunteers.submit_result(
                    current.id, "talked", {"support": "yes"}, "", then=AfterResult.PAUSE
                )
        results = "".join([c async for c in b.operators.results_csv("test", campaign.id)])
        assert results.count("\n") == len(volunteers) + 1, results

        async def nobody_claimed() -> bool:
            counts = await b.store.voter_counts(campaign.id)
            return not counts.get(VoterStatus.IN_FLIGHT)

        await wait_until(nobody_claimed, timeout=15, what="no voter left claimed")
        attempts = await b.store.list_attempts(campaign.id)
        by_number = collections.defaultdict(list)
        for each in attempts:
            by_number[each.phone].append(each)
        assert not any(overlapping(each) for each in by_number.values())  # no double dial
        for volunteer in volunteers:
            await b.volunteers.log_out(volunteer.session.id)
