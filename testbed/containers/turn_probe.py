"""A TURN Allocate over UDP with long-term credentials (RFC 5766 / 8489): proof that a TURN
server accepts a username and password, and the relayed address it hands out.

The first request carries no credentials; the server answers 401 with its realm and nonce,
and the second is signed with MESSAGE-INTEGRITY (HMAC-SHA1 keyed by
MD5(username:realm:password)), which is what a browser does with the credentials phonebank
mints.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import socket
import struct

MAGIC = 0x2112A442
ALLOCATE = 0x0003
ALLOCATE_OK = 0x0103
ALLOCATE_ERROR = 0x0113
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE = 0x0006, 0x0008, 0x0009
REALM, NONCE, XOR_RELAYED_ADDRESS, REQUESTED_TRANSPORT = 0x0014, 0x0015, 0x0016, 0x0019
UDP_TRANSPORT = b"\x11\x00\x00\x00"


class TurnRefused(Exception):
    """The TURN server answered the Allocate with an error (code and reason)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"TURN server refused the allocation: {code} {reason}")
        self.code = code


def attribute(kind: int, value: bytes) -> bytes:
    padding = b"\x00" * (-len(value) % 4)
    return struct.pack("!HH", kind, len(value)) + value + padding


def encode(kind: int, transaction_id: bytes, attrs: bytes, key: bytes | None = None) -> bytes:
    """A STUN message; signed with MESSAGE-INTEGRITY last when ``key`` is given."""
    if key is None:
        return struct.pack("!HHI", kind, len(attrs), MAGIC) + transaction_id + attrs
    header = struct.pack("!HHI", kind, len(attrs) + 24, MAGIC) + transaction_id
    digest = hmac.new(key, header + attrs, hashlib.sha1).digest()
    return header + attrs + attribute(MESSAGE_INTEGRITY, digest)


def decode(data: bytes, transaction_id: bytes) -> tuple[int, dict[int, bytes]] | None:
    """The message type and attributes of an answer to ``transaction_id``; None otherwise."""
    if len(data) < 20 or data[8:20] != transaction_id:
        return None
    kind, length = struct.unpack("!HH", data[:4])
    attrs: dict[int, bytes] = {}
    offset = 20
    while offset + 4 <= min(len(data), 20 + length):
        attr, size = struct.unpack("!HH", data[offset : offset + 4])
        attrs.setdefault(attr, data[offset + 4 : offset + 4 + size])
        offset += 4 + size + (-size % 4)
    return kind, attrs


def long_term_key(username: str, realm: str, password: str) -> bytes:
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).digest()


def xor_address(value: bytes) -> tuple[str, int]:
    """An IPv4 XOR-*-ADDRESS value as (host, port)."""
    port = struct.unpack("!H", value[2:4])[0] ^ (MAGIC >> 16)
    raw = struct.unpack("!I", value[4:8])[0] ^ MAGIC
    return socket.inet_ntoa(struct.pack("!I", raw)), port


class _Exchange(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.answers: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        self.answers.put_nowait(data)


async def _ask(
    transport: asyncio.DatagramTransport,
    exchange: _Exchange,
    message: bytes,
    tid: bytes,
    timeout: float,
) -> tuple[int, dict[int, bytes]]:
    """Send ``message`` (again every 0.5 s, as UDP may lose it) until its answer arrives."""
    async with asyncio.timeout(timeout):
        while True:
            transport.sendto(message)
            try:
                data = await asyncio.wait_for(exchange.answers.get(), 0.5)
            except TimeoutError:
                continue
            answer = decode(data, tid)
            if answer is not None:
                return answer


def _error(attrs: dict[int, bytes]) -> TurnRefused:
    value = attrs.get(ERROR_CODE, b"\x00\x00\x00\x00")
    return TurnRefused(value[2] * 100 + value[3], value[4:].decode(errors="replace"))


async def allocate(
    host: str, port: int, username: str, password: str, timeout: float = 5.0
) -> tuple[str, int]:
    """Allocate a UDP relay on the TURN server at host:port; the relayed address.
    Raises TurnRefused (e.g. 401 for credentials it does not accept) or TimeoutError."""
    loop = asyncio.get_running_loop()
    transport, exchange = await loop.create_datagram_endpoint(_Exchange, remote_addr=(host, port))
    try:
        tid = os.urandom(12)
        plain = attribute(REQUESTED_TRANSPORT, UDP_TRANSPORT)
        kind, attrs = await _ask(transport, exchange, encode(ALLOCATE, tid, plain), tid, timeout)
        if kind == ALLOCATE_OK:
            return xor_address(attrs[XOR_RELAYED_ADDRESS])  # a server with no authentication
        if REALM not in attrs or NONCE not in attrs:
            raise _error(attrs)
        realm = attrs[REALM].decode()
        signed = plain + attribute(USERNAME, username.encode())
        signed += attribute(REALM, attrs[REALM]) + attribute(NONCE, attrs[NONCE])
        tid = os.urandom(12)
        key = long_term_key(username, realm, password)
        message = encode(ALLOCATE, tid, signed, key)
        kind, attrs = await _ask(transport, exchange, message, tid, timeout)
        if kind != ALLOCATE_OK:
            raise _error(attrs)
        return xor_address(attrs[XOR_RELAYED_ADDRESS])
    finally:
        transport.close()
