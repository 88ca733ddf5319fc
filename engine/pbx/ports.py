"""Free ports for Asterisk instances, chosen at start time so parallel runs never collide."""

from __future__ import annotations

import contextlib
import random
import socket
from collections.abc import Container

from engine.errors import SetupError

RTP_RANGE_SIZE = 1000


def port_free(port: int, kind: int, host: str = "127.0.0.1") -> bool:
    """True when ``port`` can be bound now (kind: socket.SOCK_STREAM or SOCK_DGRAM)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def pick_port(
    kind: int, wanted: int = 0, what: str = "port", key: str = "", avoid: Container[int] = ()
) -> int:
    """Return ``wanted`` if it is free, or any free port outside ``avoid`` when ``wanted`` is 0
    (``avoid``: ports picked for what is not listening yet, so free now but taken).

    Raises SetupError naming the port, what needs it and the config key to change.
    """
    proto = "tcp" if kind == socket.SOCK_STREAM else "udp"
    if wanted:
        if not port_free(wanted, kind):
            hint = f" or set {key} to another port (0 picks a free one)" if key else ""
            raise SetupError(
                f"port {wanted}/{proto} for the {what} is already in use by another program: "
                f"stop that program{hint}"
            )
        return wanted
    # Ports handed out by the kernel for port 0 are in the ephemeral range; RTP ranges are below.
    for _ in range(50):
        port = random.randint(10000, 19999)
        if (
            port not in avoid
            and port_free(port, kind)
            and (kind == socket.SOCK_DGRAM or port_free(port, socket.SOCK_DGRAM))
        ):
            return port
    raise SetupError(f"no free {proto} port found for the {what}: too many programs listening?")


def pick_rtp_range(avoid: set[int], size: int = RTP_RANGE_SIZE) -> tuple[int, int]:
    """A range of ``size`` UDP ports, all bindable now, away from ``avoid``."""
    starts = list(range(20000, 60000 - size, size + size % 2))
    random.shuffle(starts)
    for start in starts:
        ports = range(start, start + size)
        if not avoid.intersection(ports) and _all_free_udp(ports):
            return start, start + size - 1
    raise SetupError(f"no free range of {size} UDP ports for RTP found between 20000 and 60000")


def _all_free_udp(ports: range) -> bool:
    with contextlib.ExitStack() as stack:
        for port in ports:
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
            try:
                sock.bind(("0.0.0.0", port))
            except OSError:
                return False
    return True
