"""RTP from externalMedia: header parsing, mu-law decoding, 20 ms framing and per-call routing."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest

from engine.amd.rtp import (
    FRAME_BYTES,
    Framer,
    Lateness,
    RtpCounts,
    RtpError,
    RtpPacket,
    RtpReceiver,
    parse_rtp,
    ulaw_to_pcm16,
)


def rtp(sequence: int, payload: bytes, *, pt: int = 0, csrcs: int = 0, ext: bytes = b"") -> bytes:
    first = 0x80 | csrcs | (0x10 if ext else 0)
    header = struct.pack("!BBHII", first, pt, sequence, sequence * 160, 0xABCD)
    header += b"\x00\x00\x00\x01" * csrcs
    if ext:
        header += struct.pack("!HH", 0xBEDE, len(ext) // 4) + ext
    return header + payload


def test_parse_reads_the_header_and_the_payload() -> None:
    packet = parse_rtp(rtp(513, b"\xff" * 160))
    assert packet == RtpPacket(0, 513, 513 * 160, 0xABCD, b"\xff" * 160)


def test_parse_skips_csrcs_and_header_extension_and_strips_padding() -> None:
    data = bytearray(rtp(7, b"abcd" + b"\x00\x00\x03", csrcs=2, ext=b"\x01\x02\x03\x04"))
    data[0] |= 0x20  # padding: the last byte says how many bytes to drop
    assert parse_rtp(bytes(data)).payload == b"abcd"


@pytest.mark.parametrize("data", [b"\x80\x00", b"\x40" + b"\x00" * 15])
def test_parse_refuses_what_is_not_rtp_version_2(data: bytes) -> None:
    with pytest.raises(RtpError):
        parse_rtp(data)


def test_ulaw_decodes_as_g711() -> None:
    pcm = ulaw_to_pcm16(bytes([0xFF, 0x7F, 0x80, 0x00, 0x0F, 0x8F]))
    assert struct.unpack("<6h", pcm) == (0, 0, 32124, -32124, -16764, 16764)


def test_framer_cuts_20_ms_frames_across_packet_sizes() -> None:
    framer = Framer()
    assert framer.push(parse_rtp(rtp(1, b"\xff" * 80))) == []
    frames = framer.push(parse_rtp(rtp(2, b"\x80" * 240)))
    assert [len(f) for f in frames] == [FRAME_BYTES, FRAME_BYTES]
    assert frames[0][:160] == b"\x00" * 160 and frames[0][160:162] == struct.pack("<h", 32124)


def test_framer_fills_a_lost_packet_with_silence_and_drops_a_late_one() -> None:
    framer = Framer()
    assert len(framer.push(parse_rtp(rtp(65535, b"\x80" * 160)))) == 1
    frames = framer.push(parse_rtp(rtp(2, b"\x80" * 160)))  # 0 and 1 lost (wrapped)
    assert len(frames) == 3
    assert frames[0] == frames[1] == b"\x00" * FRAME_BYTES
    assert frames[2] != b"\x00" * FRAME_BYTES
    assert framer.push(parse_rtp(rtp(1, b"\x80" * 160))) == []


async def test_receiver_routes_each_source_to_its_call_and_drops_strangers() -> None:
    receiver = await RtpReceiver.bound()
    loop = asyncio.get_running_loop()
    got: dict[str, list[bytes]] = {"a": [], "b": []}
    senders = []
    for name in ("a", "b"):
        transport, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0), remote_addr=receiver.address
        )
        senders.append(transport)
        receiver.expect(transport.get_extra_info("sockname")[:2], got[name].append)
    stranger, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0), remote_addr=receiver.address
    )
    try:
        senders[0].sendto(rtp(1, b"\x80" * 160))
        senders[1].sendto(rtp(9, b"\xff" * 160))
        senders[1].sendto(rtp(10, b"\xff" * 160))
        stranger.sendto(rtp(1, b"\x80" * 160))
        senders[0].sendto(b"not rtp")
        for _ in range(200):
            if len(got["a"]) == 1 and len(got["b"]) == 2 and receiver.dropped == 2:
                break
            await asyncio.sleep(0.005)
        assert (len(got["a"]), len(got["b"]), receiver.dropped) == (1, 2, 2)
        assert got["b"][0] == b"\x00" * FRAME_BYTES
        receiver.forget(senders[0].get_extra_info("sockname")[:2])
        assert receiver.routes == 1
    finally:
        for transport in (*senders, stranger):
            transport.close()
        receiver.close()


def test_framer_counts_packets_lost_and_late() -> None:
    counts = RtpCounts()
    framer = Framer(counts)
    for sequence in (10, 11, 14, 13, 14, 15):  # 12 and 13 skipped; 13 and 14 come again
        framer.push(parse_rtp(rtp(sequence, b"\x80" * 160)))
    assert (counts.packets, counts.lost, counts.late) == (4, 2, 2)


def test_lateness_is_transit_above_the_streams_best() -> None:
    lateness = Lateness()
    timestamp = 0xFFFFFF00  # the 32-bit RTP clock wraps during the call
    assert lateness.delay_ms(timestamp, 100.0) == 0.0
    assert lateness.delay_ms((timestamp + 160) & 0xFFFFFFFF, 100.020) == pytest.approx(0.0)
    assert lateness.delay_ms((timestamp + 320) & 0xFFFFFFFF, 100.095) == pytest.approx(55.0)
    assert lateness.delay_ms((timestamp + 480) & 0xFFFFFFFF, 100.050) == pytest.approx(0.0)
    assert lateness.delay_ms((timestamp + 640) & 0xFFFFFFFF, 100.075) == pytest.approx(5.0)


def test_counts_since_an_earlier_reading() -> None:
    since = RtpCounts(100, 3, 1, 7, 55.0, 0.5).minus(RtpCounts(40, 1, 0, 2, 30.0, 0.2))
    assert (since.packets, since.lost, since.late, since.delayed) == (60, 2, 1, 5)
    assert since.max_delay_ms == 55.0 and since.cpu_s == pytest.approx(0.3)


async def test_receiver_asks_for_a_large_socket_buffer() -> None:
    receiver = await RtpReceiver.bound()
    try:
        default = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with default:
            kernel_default = default.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        assert receiver.receive_buffer_bytes > kernel_default
    finally:
        receiver.close()
