"""Starting, restarting and stopping the PBX pair; the errors a bad setup gets."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from engine.ari.client import AriClient
from engine.config import load_config
from engine.errors import AriUnauthorized, PbxStartError, SetupError
from engine.pbx.instance import AsteriskInstance, pid_alive
from engine.pbx.ports import port_free
from testbed.behaviours import voter_number
from testbed.events import EventLog
from testbed.pair import PbxPair, start_pair
from tests.conftest import ari_settings
from tests.integration.runs import TESTBED_RUN, Run, recorded_run, run_env, stop_left_behind

ROOT = Path(__file__).resolve().parents[2]

PHONEBANK = [sys.executable, "-m", "phonebank.cli"]
TESTBED = [sys.executable, "-m", "testbed"]


async def test_ari_client_reconnects_after_the_dialer_pbx_restarts(
    pbx_pair: PbxPair, dialer: tuple[AriClient, EventLog]
) -> None:
    ari, events = dialer
    since = events.mark()
    await asyncio.to_thread(pbx_pair.dialer.stop)
    await asyncio.to_thread(pbx_pair.dialer.start)
    await events.wait_type("PhonebankReconnected", timeout=15)
    assert events.mark() > since
    channel_id = f"after-restart-{uuid.uuid4().hex[:8]}"
    await ari.originate(
        f"PJSIP/{voter_number('90')}@carrier", channel_id=channel_id, app="phonebank", timeout=10
    )
    await events.wait_type("StasisStart", channel_id)


async def test_wrong_ari_password_is_refused_with_a_clear_message(pbx_pair: PbxPair) -> None:
    settings = dataclasses.replace(ari_settings(pbx_pair.dialer), password="not-the-password")
    with pytest.raises(AriUnauthorized) as error:
        async with AriClient.connect(settings):
            pass
    message = str(error.value)
    assert str(pbx_pair.dialer.spec.http_port) in message
    assert "password" in message


def test_a_port_in_use_is_named_in_the_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cfg = dataclasses.replace(load_config().pbx, dialer_http_port=port)
        with pytest.raises(SetupError) as error:
            start_pair(cfg, f"test-busy-{os.getpid()}")
    assert f"port {port}/tcp" in str(error.value)
    assert "pbx.dialer_http_port" in str(error.value)


def test_asterisk_failing_to_start_shows_its_last_log_lines(pbx_pair: PbxPair) -> None:
    spec = dataclasses.replace(
        pbx_pair.dialer.spec,
        name="broken",
        base=pbx_pair.dialer.spec.base + "-broken",
        http_port=_free_tcp(),
        sip_port=_free_udp(),
    )
    broken = AsteriskInstance(spec, pbx_pair.dialer.runtime)
    broken.render()
    modules = broken.path("etc") / "modules.conf"
    modules.write_text(modules.read_text() + "require = res_phonebank_missing.so\n")
    with pytest.raises(PbxStartError) as error:
        broken.start(timeout=20)
    message = str(error.value)
    assert "exited at start" in message
    assert "res_phonebank_missing" in message
    assert broken.pid is None


def test_a_stopped_pair_leaves_no_process_port_or_lock() -> None:
    cfg = load_config().pbx
    pair = start_pair(cfg, f"test-stop-{os.getpid()}")
    pids = [i.pid for i in pair.instances]
    ports = [(i.spec.http_port, socket.SOCK_STREAM) for i in pair.instances]
    ports += [(i.spec.sip_port, socket.SOCK_DGRAM) for i in pair.instances]
    pair.stop()
    assert not [pid for pid in pids if pid and pid_alive(pid)]
    assert all(port_free(port, kind) for port, kind in ports)
    assert not (cfg.cache_dir / "rootfs.lock").exists()
    assert not (pair.run_dir / "owner.json").exists()
    shutil.rmtree(pair.run_dir)


def test_pbx_commands_start_report_and_stop_the_pair(tmp_path: Path) -> None:
    """`python -m testbed start` starts the pair; `phonebank pbx status|stop` manage it."""
    env = {
        **os.environ,
        "PHONEBANK_PBX_NAME": f"test-cli-{os.getpid()}",
        "PHONEBANK_PBX_STATE_DIR": str(tmp_path),
    }

    def phonebank(*args: str, command: list[str] = PHONEBANK) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )

    started = phonebank("start", command=TESTBED)
    assert started.returncode == 0, started.stderr
    try:
        status = phonebank("pbx", "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.count(" running ") == 2
    finally:
        stopped = phonebank("pbx", "stop")
    assert stopped.returncode == 0, stopped.stderr
    status = phonebank("pbx", "status")
    assert status.returncode == 3
    assert "not running" in status.stdout
    owner = next(line for line in started.stdout.splitlines() if "owner.json" in line)
    shutil.rmtree(owner.split("credentials in ")[1].removesuffix("/owner.json"))


async def test_make_run_starts_the_carrier_simulator_beside_the_dialer_pbx(tmp_path: Path) -> None:
    """`make run` runs `python -m testbed run`: the simulator is the default phone network.
    It prints the operator pages' address and, with no operator yet, the exact command that
    adds one (naming the configuration file it was given)."""
    assert "$(BIN)/python -m testbed run" in (ROOT / "Makefile").read_text()
    env = run_env(tmp_path, "make-run")
    cfg = load_config(environ=env)
    config = tmp_path / "my phonebank.toml"
    config.write_text("# settings come from the environment in this test\n")
    command = [*TESTBED_RUN[:-1], "--config", str(config), "run"]
    run = Run(command, env, tmp_path / "run.log")
    try:
        url = await run.url()
        printed = run.log.read_text()
        assert f"operator pages at {url}/operator " in printed
        add = f"phonebank --config '{config}' operator add NAME`"
        assert add in printed and f"then log in at {url}/operator/login" in printed
        pbx = recorded_run(cfg)
        assert pbx is not None
        assert [i.spec.name for i in pbx.instances] == ["dialer", "carrier"]
        assert all(i.pid is not None and i.healthy() for i in pbx.instances)
        assert "carrier" in pbx.dialer.cli("pjsip show endpoints")
    finally:
        run.stop()
        stop_left_behind(cfg)
    assert run.proc.returncode == 0, run.log.read_text()[-3000:]


def test_missing_rootfs_without_debootstrap_says_how_to_fix_it(tmp_path: Path) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    env = {**os.environ, "PATH": str(empty_bin), "PHONEBANK_PBX_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run(
        [*PHONEBANK, "pbx", "build"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "debootstrap is not installed" in result.stderr
    assert "apt-get install debootstrap" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _free_tcp() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _free_udp() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
