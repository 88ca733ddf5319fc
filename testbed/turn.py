"""A real coturn (Debian's `turnserver`) for tests: started with command-line flags only,
on free ports, with the shared secret phonebank mints TURN credentials from.

    async with running_turn("secret") as (host, port):
        ...  # turn:{host}:{port}?transport=udp (and tcp) answer; stopped and gone on exit
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from engine.pbx.ports import pick_port, pick_rtp_range
from phonebank.stun_probe import stun_binding

log = logging.getLogger(__name__)

TURNSERVER = "/usr/bin/turnserver"
START_SECONDS = 10.0
RELAY_PORTS = 100


def turn_command(
    secret: str,
    host: str,
    port: int,
    relay: tuple[int, int],
    run_dir: Path,
    *,
    loopback_peers: bool,
) -> list[str]:
    """The turnserver command line (see common13.md)."""
    command = [
        TURNSERVER,
        "-n",
        "--use-auth-secret",
        f"--static-auth-secret={secret}",
        "--realm=phonebank",
        f"--listening-port={port}",
        f"--listening-ip={host}",
        f"--relay-ip={host}",
        f"--min-port={relay[0]}",
        f"--max-port={relay[1]}",
        "--no-cli",
        "--no-tls",
        "--no-dtls",
        "--fingerprint",
        f"--pidfile={run_dir / 'turnserver.pid'}",
        "--log-file=stdout",
        "--simple-log",
    ]
    if loopback_peers:
        command.append("--allow-loopback-peers")
    return command


@contextlib.asynccontextmanager
async def running_turn(
    secret: str,
    host: str = "127.0.0.1",
    *,
    port: int = 0,
    loopback_peers: bool = True,
    extra_args: Sequence[str] = (),
) -> AsyncIterator[tuple[str, int]]:
    """Start coturn listening on ``host`` (UDP and TCP, ``port`` or a free one) with relay
    ports on ``host`` too; yields (host, port) once it answers a STUN Binding request. It is
    stopped (SIGTERM, then SIGKILL) on exit, also when the block fails. ``loopback_peers``
    lets tests relay to peers on 127.0.0.1; ``extra_args`` go to turnserver as they are.

    Raises RuntimeError with coturn's last log lines when it does not come up.
    """
    port = port or pick_port(socket.SOCK_STREAM, what="TURN server")
    relay = pick_rtp_range({port}, RELAY_PORTS)
    with tempfile.TemporaryDirectory(prefix="pb-turn-") as tmp:
        run_dir = Path(tmp)
        log_path = run_dir / "turnserver.log"
        command = [
            *turn_command(secret, host, port, relay, run_dir, loopback_peers=loopback_peers),
            *extra_args,
        ]
        with log_path.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                *command, stdout=out, stderr=asyncio.subprocess.STDOUT, cwd=run_dir
            )
        try:
            await _wait_until_answering(proc, host, port, log_path)
            log.info("coturn %d answering on %s:%d", proc.pid, host, port)
            yield host, port
        finally:
            await stop_process(proc)


async def _wait_until_answering(
    proc: asyncio.subprocess.Process, host: str, port: int, log_path: Path
) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            break
        answer = await stun_binding(host, port, timeout=0.3, tries=1)
        if answer is not None and answer.success:
            return
        await asyncio.sleep(0.05)  # polling interval: a refused port answers at once
    text = await asyncio.to_thread(log_path.read_text, errors="replace")
    tail = text.splitlines()[-15:]
    raise RuntimeError(
        f"coturn did not answer on {host}:{port} within {START_SECONDS} s: " + "\n".join(tail)
    )


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    """Terminate ``proc`` and wait for it; kill it if it lingers 5 s."""
    if proc.returncode is not None:
        return
    proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 5)
    except TimeoutError:
        proc.kill()
        await proc.wait()
