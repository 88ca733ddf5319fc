"""Nobody can pose as the carrier (issue 11, item 1).

Raw SIP INVITEs to the dialer PBX's call-in number, from an address and port that are not the
carrier's, with a From header naming the trunk endpoints (``carrier``, the simulator trunk on
the dialer PBX, and ``trunk``, the real carrier's). Trunks are identified by source address
only, and nothing answers for an unidentified request: the reply is a challenge (401) or a
refusal (403), and the engine's Stasis app never sees a call-in (so nobody hears the PIN
prompt).
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from engine.ari.client import AriClient
from testbed.events import EventLog
from testbed.pair import PbxPair
from tests.conftest import clear_pbx

STATUS = re.compile(rb"^SIP/2\.0 (\d{3})")
TO_TAG = re.compile(rb"^To:.*$", re.MULTILINE | re.IGNORECASE)


@pytest.fixture(autouse=True)
async def hang_up_leftovers(pbx_pair: PbxPair) -> AsyncIterator[None]:
    """A call that got in (without the fix) must not outlive its test."""
    yield
    await clear_pbx(pbx_pair)


def invite(
    target: tuple[str, int], source: tuple[str, int], user: str, number: str, timeout: float
) -> list[int]:
    """Send one INVITE from ``source`` and return the status codes received, up to the first
    final one (or all that came within ``timeout`` seconds); ACK a final refusal."""
    host, port = target
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(source)
        src_host, src_port = sock.getsockname()
        branch, tag, call_id = (f"z9hG4bK{uuid.uuid4().hex}", uuid.uuid4().hex[:8], uuid.uuid4())
        sdp = (
            f"v=0\r\no=- 1 1 IN IP4 {src_host}\r\ns=-\r\nc=IN IP4 {src_host}\r\nt=0 0\r\n"
            f"m=audio {src_port + 2} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        )
        common = (
            f"Via: SIP/2.0/UDP {src_host}:{src_port};branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:{user}@{host}>;tag={tag}\r\n"
            f"Call-ID: {call_id}\r\n"
        )
        request = (
            f"INVITE sip:{number}@{host}:{port} SIP/2.0\r\n{common}"
            f"To: <sip:{number}@{host}>\r\nCSeq: 1 INVITE\r\n"
            f"Contact: <sip:{user}@{src_host}:{src_port}>\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}"
        )
        sock.sendto(request.encode(), target)
        codes: list[int] = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data, _ = sock.recvfrom(65535)
            except TimeoutError:
                break
            match = STATUS.match(data)
            if not match:
                continue
            codes.append(int(match.group(1)))
            if codes[-1] >= 200:
                to = TO_TAG.search(data)
                to_line = to.group(0).decode().strip() if to else f"To: <sip:{number}@{host}>"
                ack = (
                    f"ACK sip:{number}@{host}:{port} SIP/2.0\r\n{common}{to_line}\r\n"
                    "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
                )
                sock.sendto(ack.encode(), target)
                break
        return codes


def callins_since(events: EventLog, since: int) -> list[dict[str, Any]]:
    return [
        e
        for e in events.events[since:]
        if e.get("type") == "StasisStart" and (e.get("args") or [""])[0] == "callin"
    ]


@pytest.mark.parametrize(
    ("user", "source_host"),
    [("carrier", "127.0.0.2"), ("trunk", "127.0.0.2"), ("carrier", "127.0.0.1")],
)
async def test_an_invite_claiming_to_be_the_carrier_is_refused(
    pbx_pair: PbxPair, dialer: tuple[AriClient, EventLog], user: str, source_host: str
) -> None:
    ari, events = dialer
    since = events.mark()
    target = ("127.0.0.1", pbx_pair.dialer.spec.sip_port)
    number = str(pbx_pair.dialer.spec.extra["callin_number"])

    codes = await asyncio.to_thread(invite, target, (source_host, 0), user, number, 5.0)

    assert codes and codes[-1] in (401, 403), f"the dialer PBX answered {codes}"
    assert callins_since(events, since) == [], "a forged INVITE reached the call-in line"
    leftovers = [c for c in await ari.list_channels() if c["dialplan"]["context"] == "from-carrier"]
    assert leftovers == [], leftovers
