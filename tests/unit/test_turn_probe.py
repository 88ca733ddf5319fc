"""The TURN probe's STUN coding (testbed/containers/turn_probe.py): attributes padded to 4
bytes, MESSAGE-INTEGRITY over the header with the length including it, XOR addresses."""

from __future__ import annotations

import hashlib
import hmac
import socket
import struct

from testbed.containers.turn_probe import (
    ALLOCATE,
    MAGIC,
    MESSAGE_INTEGRITY,
    REALM,
    USERNAME,
    attribute,
    decode,
    encode,
    long_term_key,
    xor_address,
)

TID = bytes(range(12))


def test_attributes_are_padded_to_four_bytes_and_decode_back() -> None:
    attrs = attribute(USERNAME, b"12345:pb-7") + attribute(REALM, b"phonebank")
    message = encode(ALLOCATE, TID, attrs)
    assert len(message) % 4 == 0
    assert decode(message, TID) == (ALLOCATE, {USERNAME: b"12345:pb-7", REALM: b"phonebank"})
    assert decode(message, bytes(12)) is None  # another transaction's answer


def test_message_integrity_signs_the_header_with_its_own_length_included() -> None:
    attrs = attribute(USERNAME, b"12345:pb-7")
    key = long_term_key("12345:pb-7", "phonebank", "pw")
    assert key == hashlib.md5(b"12345:pb-7:phonebank:pw").digest()
    message = encode(ALLOCATE, TID, attrs, key)
    length = struct.unpack("!H", message[2:4])[0]
    assert length == len(message) - 20 == len(attrs) + 24
    signed = message[: 20 + len(attrs)]
    kind, found = decode(message, TID) or (0, {})
    assert kind == ALLOCATE
    assert found[MESSAGE_INTEGRITY] == hmac.new(key, signed, hashlib.sha1).digest()


def test_xor_relayed_address_decodes_to_host_and_port() -> None:
    host = struct.unpack("!I", socket.inet_aton("192.0.2.7"))[0]
    value = struct.pack("!BBHI", 0, 1, 61001 ^ (MAGIC >> 16), host ^ MAGIC)
    assert xor_address(value) == ("192.0.2.7", 61001)
