"""The Kamailio front takes call-ins only from the carrier's addresses when told them
(`phonebank kamailio --callin-from`, docker/kamailio.cfg.j2): a real Kamailio, sent a plain
SIP INVITE over UDP from 127.0.0.1, refuses it with 403 when 127.0.0.1 is not a call-in
source, and passes it on to its nodes when it is (here a node that does not answer: a
100 Trying and then a failure, never a 403)."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator

import pytest

from testbed.kamailio import KamailioFront

SILENT_NODE = {"node1": 9}  # the discard port: no SIP server answers there


@pytest.fixture
def caller() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.5)
        yield sock


def invite(sock: socket.socket, front: KamailioFront) -> bytes:
    """A call-in as a carrier sends it (no SDP: Kamailio routes on headers alone)."""
    local = f"127.0.0.1:{sock.getsockname()[1]}"
    call_id = uuid.uuid4().hex
    return (
        f"INVITE sip:+12025550100@{front.address} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {local};branch=z9hG4bK{call_id[:10]};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:+12025550199@{local}>;tag={call_id[:6]}\r\n"
        f"To: <sip:+12025550100@{front.address}>\r\n"
        f"Call-ID: {call_id}@127.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        f"Contact: <sip:carrier@{local}>\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def replies(sock: socket.socket, front: KamailioFront, seconds: float) -> list[int]:
    """Send one INVITE to ``front``; the status codes of the replies within ``seconds``,
    up to the first final one."""
    sock.sendto(invite(sock, front), ("127.0.0.1", front.port))
    codes: list[int] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not any(code >= 200 for code in codes):
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        codes.append(int(data.split(b" ", 2)[1]))
    return codes


@pytest.mark.parametrize(
    ("callin_from", "refused"), [("127.0.0.2, 192.0.2.0/24", True), ("127.0.0.0/8", False)]
)
def test_a_call_in_from_outside_the_carrier_s_addresses_is_refused(
    caller: socket.socket, callin_from: str, refused: bool
) -> None:
    front = KamailioFront.prepare()
    try:
        front.start(SILENT_NODE, callin_from=callin_from)
        codes = replies(caller, front, seconds=5)
        said = front.output()
    finally:
        front.stop()
    if refused:
        assert codes == [403], said
        assert "not a call-in source of this front" in said
    else:
        assert codes and 403 not in codes and codes[0] == 100, codes  # relayed to the node
