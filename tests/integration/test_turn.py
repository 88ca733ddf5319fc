"""TURN REST credentials against a real coturn (testbed/turn.py) on loopback: what
engine/security/turn_credentials.py mints allocates a relay, and coturn refuses an expired or
wrongly signed pair. turnutils_uclient (Debian's coturn) is the TURN client: with -y it
allocates two relays and sends messages between them."""

from __future__ import annotations

import asyncio
import time

from engine.security.turn_credentials import TurnCredential, mint, turn_password
from testbed.turn import running_turn

SECRET = "integration-secret"
UCLIENT_SECONDS = 30.0


async def allocate(host: str, port: int, credential: TurnCredential) -> tuple[int, str]:
    """turnutils_uclient's exit code and output for an allocation with ``credential``."""
    proc = await asyncio.create_subprocess_exec(
        "/usr/bin/turnutils_uclient",
        "-y",
        "-n",
        "2",
        "-u",
        credential.username,
        "-w",
        credential.credential,
        "-p",
        str(port),
        host,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), UCLIENT_SECONDS)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")


async def test_minted_credentials_allocate_and_bad_ones_are_refused() -> None:
    async with running_turn(SECRET) as (host, port):
        good = mint(SECRET, 42, time.time(), 600)
        code, out = await allocate(host, port, good)
        assert code == 0, out
        assert "Total lost packets 0" in out, out

        expired = mint(SECRET, 42, time.time() - 3600, 600)
        code, out = await allocate(host, port, expired)
        assert code != 0 and "Cannot complete Allocation" in out, out

        wrong = mint("another-secret", 42, time.time(), 600)
        code, out = await allocate(host, port, wrong)
        assert code != 0 and "Cannot complete Allocation" in out, out

        forged = TurnCredential(f"{good.expires + 86400}:pb-42", good.credential, good.expires)
        assert forged.credential != turn_password(SECRET, forged.username)
        code, out = await allocate(host, port, forged)
        assert code != 0 and "Cannot complete Allocation" in out, out
