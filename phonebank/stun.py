"""A STUN Binding request and its answer (RFC 5389), just enough to ask a TURN server
"are you there, and what address do you see?" over UDP. Pure: bytes in, bytes out.

A TURN server is a STUN server too, and answers a Binding request without credentials.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

MAGIC_COOKIE = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111
XOR_MAPPED_ADDRESS = 0x0020
MAPPED_ADDRESS = 0x0001
HEADER = struct.Struct("!HHI12s")


@dataclass(frozen=True)
class BindingAnswer:
    success: bool
    """A success response (else an error response)."""
    address: tuple[str, int] | None
    """The client's address as the server saw it (XOR-MAPPED-ADDRESS), when given."""


def binding_request(transaction_id: bytes) -> bytes:
    """A Binding request with no attributes; ``transaction_id`` is 12 random bytes."""
    if len(transaction_id) != 12:
        raise ValueError("a STUN transaction id is 12 bytes")
    return HEADER.pack(BINDING_REQUEST, 0, MAGIC_COOKIE, transaction_id)


def parse_binding_answer(data: bytes, transaction_id: bytes) -> BindingAnswer | None:
    """The answer to our request, or None when ``data`` is not one (another message, another
    transaction, truncated)."""
    if len(data) < HEADER.size:
        return None
    kind, length, cookie, tid = HEADER.unpack_from(data)
    if (
        cookie != MAGIC_COOKIE
        or tid != transaction_id
        or kind not in (BINDING_SUCCESS, BINDING_ERROR)
    ):
        return None
    if len(data) < HEADER.size + length:
        return None
    address = None
    offset = HEADER.size
    while offset + 4 <= HEADER.size + length:
        attr, size = struct.unpack_from("!HH", data, offset)
        value = data[offset + 4 : offset + 4 + size]
        if attr == XOR_MAPPED_ADDRESS:
            address = _address(value, xor=True, transaction_id=transaction_id)
        elif attr == MAPPED_ADDRESS and address is None:
            address = _address(value, xor=False, transaction_id=transaction_id)
        offset += 4 + size + (-size % 4)
    return BindingAnswer(kind == BINDING_SUCCESS, address)


def xor_mapped_address(host: str, port: int, transaction_id: bytes) -> bytes:
    """The XOR-MAPPED-ADDRESS attribute value for (host, port): what a server sends."""
    ip = ipaddress.ip_address(host)
    family = 1 if ip.version == 4 else 2
    key = struct.pack("!I", MAGIC_COOKIE) + transaction_id
    packed = bytes(b ^ k for b, k in zip(ip.packed, key, strict=False))
    return struct.pack("!BBH", 0, family, port ^ (MAGIC_COOKIE >> 16)) + packed


def _address(value: bytes, *, xor: bool, transaction_id: bytes) -> tuple[str, int] | None:
    if len(value) < 8:
        return None
    _, family, port = struct.unpack_from("!BBH", value)
    size = 4 if family == 1 else 16
    raw = value[4 : 4 + size]
    if len(raw) != size:
        return None
    if xor:
        port ^= MAGIC_COOKIE >> 16
        key = struct.pack("!I", MAGIC_COOKIE) + transaction_id
        raw = bytes(b ^ k for b, k in zip(raw, key, strict=False))
    return str(ipaddress.ip_address(raw)), port
