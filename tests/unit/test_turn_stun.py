"""The STUN Binding coder (phonebank/stun.py) and probe (phonebank/stun_probe.py)."""

from __future__ import annotations

import asyncio
import struct
import typing

import pytest

from phonebank.stun import (
    BINDING_ERROR,
    BINDING_SUCCESS,
    MAGIC_COOKIE,
    XOR_MAPPED_ADDRESS,
    BindingAnswer,
    binding_request,
    parse_binding_answer,
    xor_mapped_address,
)
from phonebank.stun_probe import stun_binding

TID = bytes(range(12))


def answer(kind: int, tid: bytes, attributes: bytes = b"") -> bytes:
    return struct.pack("!HHI12s", kind, len(attributes), MAGIC_COOKIE, tid) + attributes


def attribute(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def test_binding_request_is_the_rfc5389_header_with_no_attributes() -> None:
    assert binding_request(TID).hex() == "000100002112a442" + TID.hex()
    with pytest.raises(ValueError, match="12 bytes"):
        binding_request(b"short")


def test_rfc5769_style_xor_mapped_address_decodes() -> None:
    """RFC 5769 2.2's IPv4 value: 192.0.2.1 port 32853 for its transaction id."""
    tid = bytes.fromhex("b7e7a701bc34d686fa87dfae")
    value = bytes.fromhex("0001a147e112a643")
    assert xor_mapped_address("192.0.2.1", 32853, tid) == value
    data = answer(BINDING_SUCCESS, tid, attribute(XOR_MAPPED_ADDRESS, value))
    assert parse_binding_answer(data, tid) == BindingAnswer(True, ("192.0.2.1", 32853))


def test_ipv6_addresses_round_trip() -> None:
    value = xor_mapped_address("2001:db8::1", 3478, TID)
    data = answer(
        BINDING_SUCCESS, TID, attribute(0x8022, b"soft") + attribute(XOR_MAPPED_ADDRESS, value)
    )
    assert parse_binding_answer(data, TID) == BindingAnswer(True, ("2001:db8::1", 3478))


def test_error_answers_and_foreign_or_short_messages() -> None:
    assert parse_binding_answer(answer(BINDING_ERROR, TID), TID) == BindingAnswer(False, None)
    assert parse_binding_answer(answer(BINDING_SUCCESS, bytes(12)), TID) is None
    assert parse_binding_answer(answer(BINDING_SUCCESS, TID)[:10], TID) is None
    assert parse_binding_answer(binding_request(TID), TID) is None
    truncated = answer(BINDING_SUCCESS, TID, attribute(XOR_MAPPED_ADDRESS, bytes(8)))[:-4]
    assert parse_binding_answer(truncated, TID) is None


class _StunServer(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        tid = data[8:20]
        value = xor_mapped_address(addr[0], addr[1], tid)
        self.transport.sendto(
            answer(BINDING_SUCCESS, tid, attribute(XOR_MAPPED_ADDRESS, value)), addr
        )


async def test_the_probe_gets_the_mapped_address_and_none_from_a_closed_port() -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_StunServer, local_addr=("127.0.0.1", 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        got = await stun_binding("127.0.0.1", port, timeout=2.0)
        assert got is not None and got.success and got.address is not None
        assert got.address[0] == "127.0.0.1"
    finally:
        transport.close()
    assert await stun_binding("127.0.0.1", port, timeout=0.3) is None
