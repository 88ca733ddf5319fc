"""More dialer nodes for the multi-node test bed (issue 16), beside the PBX pair.

A node is the product's dialer PBX (engine/pbx/dialer.py: the same rendered configuration the
engine uses) started as a run of its own (``<runs>/<tag>``, one instance, its own directories,
free ports and ARI credentials), so a test session killed midway leaves nothing behind: the
next start reaps it like any orphaned run. Its phone network is ``link``: the Kamailio front
(testbed/kamailio.py), which relays the carrier simulator's calls to it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator

from engine.config import PbxConfig
from engine.pbx.dialer import PeerLink, dialer_instance, pick_dialer_ports
from engine.pbx.instance import AsteriskInstance, stop_pid
from engine.pbx.rootfs import ensure_runtime
from engine.pbx.run import PbxRun, config_fingerprint, open_run_dir, start_run
from testbed.carrier import carrier_instance, pick_carrier_ports
from testbed.pair import PbxPair


def used_ports(run: PbxRun) -> set[int]:
    """Every port the instances of ``run`` listen on or may send media from."""
    ports: set[int] = set()
    for instance in run.instances:
        spec = instance.spec
        ports |= {spec.sip_port, spec.http_port, *range(spec.rtp_start, spec.rtp_end + 1)}
    return ports


def start_node(cfg: PbxConfig, tag: str, link: PeerLink, avoid: set[int]) -> PbxRun:
    """Start one more dialer PBX as run ``tag``, reaching its phone network through ``link``,
    on free ports outside ``avoid`` (configured dialer ports are the pair's, so they are not
    used). Raises SetupError or PbxStartError."""
    cfg = dataclasses.replace(cfg, dialer_sip_port=0, dialer_http_port=0, dialer_rtp_ports="")
    runtime = ensure_runtime(cfg)
    base = open_run_dir(cfg, runtime, tag, ("dialer",))
    ports = pick_dialer_ports(cfg, avoid | {link.port})
    dialer = dialer_instance(cfg, runtime, base, ports, None, link)
    run = PbxRun((dialer,), runtime.host_path(base), config_fingerprint(cfg, None), {})
    start_run(run, cfg.start_timeout, detached=False)
    return run


@contextlib.contextmanager
def running_node(cfg: PbxConfig, tag: str, link: PeerLink, avoid: set[int]) -> Iterator[PbxRun]:
    """A throwaway node: stopped and its run directory removed on exit."""
    node = start_node(cfg, tag, link, avoid)
    try:
        yield node
    finally:
        node.stop()
        shutil.rmtree(node.run_dir, ignore_errors=True)


def start_carrier_behind(
    cfg: PbxConfig, pair: PbxPair, tag: str, front_port: int, avoid: set[int]
) -> PbxRun:
    """Start one more carrier simulator as run ``tag``, trunked to the Kamailio front at
    ``front_port`` (its endpoint 'dialer'): it sends volunteers' call-ins to the front and
    takes the calls every node places through it, playing the voters with ``pair``'s voices.
    Raises SetupError or PbxStartError."""
    cfg = dataclasses.replace(cfg, carrier_sip_port=0, carrier_http_port=0)
    runtime = ensure_runtime(cfg)
    base = open_run_dir(cfg, runtime, tag, ("carrier",))
    ports = pick_carrier_ports(cfg, avoid | {front_port})
    used = avoid | {front_port, ports.sip, ports.http}
    carrier = carrier_instance(
        runtime, base, ports, used, front_port, (pair.voices_dir, pair.voices)
    )
    notes = {"voices_dir": str(pair.voices_dir)}
    run = PbxRun((carrier,), runtime.host_path(base), config_fingerprint(cfg, None), notes)
    start_run(run, cfg.start_timeout, detached=False)
    return run


@contextlib.contextmanager
def running_carrier_behind(
    cfg: PbxConfig, pair: PbxPair, tag: str, front_port: int, avoid: set[int]
) -> Iterator[PbxRun]:
    """A throwaway carrier behind the front: stopped and its run directory removed on exit."""
    run = start_carrier_behind(cfg, pair, tag, front_port, avoid)
    try:
        yield run
    finally:
        run.stop()
        shutil.rmtree(run.run_dir, ignore_errors=True)


def kill(instance: AsteriskInstance) -> None:
    """SIGKILL an instance's Asterisk by its PID (a crashed node), and reap it."""
    assert instance.pid is not None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(instance.pid, signal.SIGKILL)
    instance.stop(timeout=2.0)


def restart(node: PbxRun, timeout: float = 30.0) -> None:
    """Start a node's Asterisk again (same ports and credentials) and record its new PID."""
    node.dialer.restart(timeout)
    node.save_owner(os.getpid())


@contextlib.contextmanager
def draining(instance: AsteriskInstance) -> Iterator[None]:
    """`core stop gracefully` on a node (maintenance): it keeps its calls, refuses new INVITEs
    and OPTIONS with 503, and exits after its last call. The CLI command returns only then, so
    it runs in the background and is stopped by its PID on leaving the block."""
    command = instance.runtime.command("-C", str(instance.conf), "-rx", "core stop gracefully")
    cli = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield
    finally:
        stop_pid(cli.pid, 5.0, cli)
