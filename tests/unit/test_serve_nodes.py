"""`phonebank run` with [[nodes]] (phonebank/serve_nodes.py): it drives running nodes (fake
ARIs here), says for each whether this engine drives it, and names a node it cannot use with
what to check; each node is told sounds by the path it reads them at."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath

import pytest

from engine.app import Engine, NodeSpec
from engine.audio.sounds import SoundLibrary, sound_name
from engine.config import NodeConfig, load_config
from engine.errors import SetupError
from engine.store.sqlite.store import SqliteStore
from phonebank import serve_nodes
from phonebank.node_probe import probe_node, probe_nodes
from phonebank.sounds import fixed_texts
from tests.helpers import wait_until
from tests.unit.fake_ari import FakeAri


def closed_port() -> int:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port: int = free.getsockname()[1]
    return port


def node_of(name: str, url: str, password: str = "secret") -> NodeConfig:
    return NodeConfig(
        name=name,
        ari_url=url,
        ari_user="phonebank",
        ari_password=password,
        sip_address="127.0.0.1:5060",
    )


def nodes_toml(nodes: list[NodeConfig]) -> str:
    lines = []
    for node in nodes:
        lines += ["[[nodes]]"]
        for key in ("name", "ari_url", "ari_user", "ari_password", "sip_address"):
            lines.append(f"{key} = {json.dumps(getattr(node, key))}")
    return "\n".join(lines) + "\n"


async def test_a_node_refusing_the_credentials_is_named_with_the_ari_conf_to_check() -> None:
    async with FakeAri() as fake:
        problem = await probe_node(node_of("node1", fake.url, password="wrong"))
    assert problem is not None and problem.fatal and problem.node == "node1"
    assert "node node1" in problem.message and "ari.conf" in problem.message


async def test_an_unreachable_node_is_named_with_what_to_check_and_is_not_fatal() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    problem = await probe_node(node_of("node2", url))
    assert problem is not None and not problem.fatal
    assert f"node node2 (ari_url {url}) does not answer" in problem.message
    assert "pbx.dialer_http_bind" in problem.message and "firewall" in problem.message


async def test_one_node_down_of_two_is_a_warning_and_all_down_stops_start_up() -> None:
    down = node_of("node2", f"http://127.0.0.1:{closed_port()}")
    async with FakeAri() as fake:
        problems = await probe_nodes([node_of("node1", fake.url), down])
    assert [problem.node for problem in problems] == ["node2"]
    with pytest.raises(SetupError, match=r"none of the dialer nodes .* answers:\n  node node2"):
        await probe_nodes([down])


async def test_a_node_with_a_sounds_dir_is_told_each_sound_by_its_own_path(
    tmp_path: Path,
) -> None:
    """The engine writes into its directory; the node is given the file under its
    ``sounds_dir`` (where it mounts or holds a copy of that directory)."""
    store = SqliteStore.open(":memory:")
    sounds = SoundLibrary(tmp_path, PurePosixPath(tmp_path))
    cfg = load_config(environ={})
    on_node = PurePosixPath("/srv/node-sounds")
    async with FakeAri() as fake:
        spec = NodeSpec("node1", fake.settings(), "ws://127.0.0.1:1/ws", on_node)
        async with Engine.running(cfg, sounds=sounds, store=store, nodes=[spec]) as engine:
            campaign = await engine.operators.create_campaign("test", "Sounds")
            signup = await engine.volunteers.sign_up("Ada", "ada@example.org", "+12025550100")
            signin = await engine.volunteers.sign_in(
                signup.login_id, signup.password, campaign.id, "phone", "test"
            )
            await engine.nodes["node1"].telephony.join_session(signin.session, "phone-1")
            await engine.volunteers.log_out(signin.session.id)
            await wait_until(lambda: fake.requests_to("POST", "/channels/phone-1/play"), 5, "bye")
    await store.close()
    (played,) = fake.requests_to("POST", "/channels/phone-1/play")
    (media,) = played.query.getall("media")
    assert media.startswith(f"sound:{on_node}/msg-"), media
    assert (tmp_path / f"{media.rsplit('/', 1)[1]}.wav").stat().st_size > 1000


async def run_phonebank(config: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "phonebank",
        "--config",
        str(config),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PHONEBANK_WEB_PORT": "0", "PHONEBANK_WEB_HOST": "127.0.0.1"},
    )


@pytest.fixture
def sounds_written(tmp_path: Path) -> Path:
    """A sounds directory already holding the engine's fixed messages (as after a first
    start), so the command does not spend seconds speaking them."""
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    for text in fixed_texts(load_config(environ={}).callin):
        (sounds / f"{sound_name(text)}.wav").write_bytes(b"RIFF")
    return sounds


async def lines_until(stream: asyncio.StreamReader, last: str) -> AsyncIterator[str]:
    async with asyncio.timeout(30):
        while line := (await stream.readline()).decode():
            yield line
            if line.startswith(last):
                return


async def test_run_drives_the_nodes_says_who_drives_each_and_stops_on_sigterm(
    tmp_path: Path, sounds_written: Path
) -> None:
    config = tmp_path / "phonebank.toml"
    down = closed_port()
    async with FakeAri() as one:
        nodes = [node_of("node1", one.url), node_of("node2", f"http://127.0.0.1:{down}")]
        config.write_text(
            f"[engine]\ndatabase = {json.dumps(str(tmp_path / 'pb.db'))}\n"
            f"sounds_dir = {json.dumps(str(sounds_written))}\n" + nodes_toml(nodes)
        )
        proc = await run_phonebank(config, "run")
        assert proc.stdout is not None and proc.stderr is not None
        printed = [line async for line in lines_until(proc.stdout, "phonebank is running")]
        await wait_until(lambda: one.connected_websockets == 1, 5, "node1's events")
        proc.send_signal(signal.SIGTERM)
        rest, errors = await proc.communicate()
    text = "".join(printed)
    assert proc.returncode == 0, errors.decode()[-2000:]
    assert "warning: node node2 (ari_url" in text and "does not answer" in text
    assert "database: SQLite, so this is the only engine" in text
    assert f"node node1      ARI {one.url}  SIP 127.0.0.1:5060  driven by this engine" in text
    assert "node node2" in text and "NOT driven: its ARI did not answer at start" in text
    assert "web app and API at http://127.0.0.1:" in text and "operator pages at" in text
    assert "the nodes' Asterisks keep running" in rest.decode()
    assert b"Traceback" not in errors


async def test_run_with_a_node_refusing_its_credentials_stops_with_one_sentence(
    tmp_path: Path, sounds_written: Path
) -> None:
    config = tmp_path / "phonebank.toml"
    async with FakeAri() as one:
        config.write_text(
            f"[engine]\ndatabase = {json.dumps(str(tmp_path / 'pb.db'))}\n"
            + nodes_toml([node_of("node1", one.url, password="wrong")])
        )
        proc = await run_phonebank(config, "run")
        _, errors = await proc.communicate()
    assert proc.returncode == 1
    message = errors.decode()
    assert "a dialer node ([[nodes]]) cannot be used:" in message
    assert "node node1" in message and "ari.conf" in message
    assert "Traceback" not in message


class Nodes:
    """What watch_ownership reads of the engine: the nodes it drives now."""

    def __init__(self) -> None:
        self.nodes: dict[str | None, object] = {"node1": object()}


async def test_each_node_won_or_handed_on_later_is_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(serve_nodes, "OWNERSHIP_POLL_S", 0.01)
    engine = Nodes()
    watching = serve_nodes.watch_ownership(engine, {"node1"})  # type: ignore[arg-type]
    watch = asyncio.create_task(watching)
    engine.nodes = {"node2": object()}  # handed node1 on, won node2
    await asyncio.sleep(0.2)
    watch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await watch
    assert capsys.readouterr().out.splitlines() == [
        "node node2: now driven by this engine",
        "node node1: no longer driven by this engine",
    ]
