"""RTP from Asterisk's externalMedia channels, turned into the detector's 20 ms frames.

Pure parts (unit-tested): `parse_rtp` reads a packet's header, `ulaw_to_pcm16` decodes G.711
mu-law to signed 16-bit little-endian PCM, and `Framer` cuts one stream into 20 ms frames,
filling packets lost on the way with silence so that frame counts stay a clock; `RtpCounts`
adds up what the receiver saw (packets, lost, late, delayed, its own CPU). The I/O part is
`RtpReceiver`: one UDP socket for every call, each datagram handed to the call whose
externalMedia channel sends from that source port (Asterisk's UNICASTRTP_LOCAL_PORT).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

log = logging.getLogger(__name__)

FRAME_BYTES = 320
"""20 ms of 8 kHz signed 16-bit mono PCM (the detector's frame)."""
PCMU = 0
"""RTP payload type of G.711 mu-law."""
MAX_GAP_FRAMES = 50
"""A sequence jump larger than this (1 s) is a new stream, not a loss to fill."""
DELAYED_MS = 40.0
"""A packet that reaches the receiver this much later than the earliest of its stream would
have it (by its RTP timestamp) counts as delayed: the engine's event loop was busy."""
RATE = 8000
RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
"""The receiver's socket buffer: about 4 s of 100 listened calls (a datagram of 172 bytes takes
~1 KB of kernel buffer). The kernel's default (~208 KB) held ~0.25 s of them: a busy event
loop (a stall of ~0.9 s at 120 calls on a shared machine) lost packets. Linux caps the request
at net.core.rmem_max."""

Address = tuple[str, int]


class RtpError(ValueError):
    """A datagram that is not an RTP packet this receiver can read."""


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes


def parse_rtp(data: bytes) -> RtpPacket:
    """Read an RTP packet (RFC 3550: version 2, CSRCs, header extension, padding).

    Raises RtpError when it is too short or not version 2.
    """
    if len(data) < 12:
        raise RtpError(f"{len(data)} bytes is shorter than an RTP header")
    first, second, sequence, timestamp, ssrc = struct.unpack_from("!BBHII", data)
    if first >> 6 != 2:
        raise RtpError(f"RTP version {first >> 6}, not 2")
    offset = 12 + 4 * (first & 0x0F)
    if first & 0x10:  # header extension: 16-bit profile, 16-bit length in 32-bit words
        if len(data) < offset + 4:
            raise RtpError("truncated RTP header extension")
        (words,) = struct.unpack_from("!H", data, offset + 2)
        offset += 4 + 4 * words
    end = len(data)
    if first & 0x20:
        end -= data[-1]
    if offset > end:
        raise RtpError("RTP header longer than the packet")
    return RtpPacket(second & 0x7F, sequence, timestamp, ssrc, data[offset:end])


def _ulaw_sample(byte: int) -> int:
    """G.711 mu-law byte to a linear 16-bit sample (ITU-T G.711, as Asterisk decodes it)."""
    byte = ~byte & 0xFF
    magnitude = (((byte & 0x0F) << 3) + 0x84) << ((byte & 0x70) >> 4)
    return 0x84 - magnitude if byte & 0x80 else magnitude - 0x84


_ULAW_PCM = [struct.pack("<h", _ulaw_sample(b)) for b in range(256)]


def ulaw_to_pcm16(payload: bytes) -> bytes:
    """Decode mu-law bytes to signed 16-bit little-endian PCM (two bytes per sample)."""
    table = _ULAW_PCM
    return b"".join([table[b] for b in payload])


@dataclass(slots=True)
class RtpCounts:
    """What a receiver saw, over all its calls (the capacity bench reads it before and after
    a step)."""

    packets: int = 0
    """RTP packets routed to a call."""
    lost: int = 0
    """Packets a sequence gap says never came (filled with silence)."""
    late: int = 0
    """Packets that came after a later one, or twice (dropped)."""
    delayed: int = 0
    """Packets read DELAYED_MS or more behind their stream's clock (see Lateness)."""
    max_delay_ms: float = 0.0
    cpu_s: float = 0.0
    """CPU time (this thread's) spent handling datagrams, the detectors' included."""

    def minus(self, earlier: RtpCounts) -> RtpCounts:
        """The counts since `earlier` (max_delay_ms is this one's: a maximum does not subtract)."""
        return RtpCounts(
            self.packets - earlier.packets,
            self.lost - earlier.lost,
            self.late - earlier.late,
            self.delayed - earlier.delayed,
            self.max_delay_ms,
            self.cpu_s - earlier.cpu_s,
        )


class Lateness:
    """How late each packet of one stream is read, against the stream's own clock: its transit
    (arrival time minus RTP timestamp) above the least transit seen so far. Asterisk sends every
    20 ms, so a receiver that keeps up reads each packet within a millisecond or two of the best
    transit; a busy event loop reads them in bursts, tens of ms late."""

    def __init__(self) -> None:
        self._least: float | None = None
        self._first_timestamp: int | None = None

    def delay_ms(self, timestamp: int, arrival_s: float) -> float:
        if self._first_timestamp is None:
            self._first_timestamp = timestamp
        ticks = (timestamp - self._first_timestamp) & 0xFFFFFFFF
        if ticks >= 0x80000000:  # before the first packet (reordered)
            ticks -= 0x100000000
        transit = arrival_s - ticks / RATE
        if self._least is None or transit < self._least:
            self._least = transit
        return 1000.0 * (transit - self._least)


class Framer:
    """Cuts one RTP stream's PCM into FRAME_BYTES frames, in arrival order. A packet whose
    sequence number skips ahead (lost on the way) first gives the silence it would have
    carried, so frame n is always n × 20 ms into the stream; a late or repeated packet is
    dropped."""

    def __init__(self, counts: RtpCounts | None = None) -> None:
        self._pending = b""
        self._next_sequence: int | None = None
        self._samples_per_packet = 160
        self.counts = counts if counts is not None else RtpCounts()

    def push(self, packet: RtpPacket) -> list[bytes]:
        """The whole frames this packet completes (none for a late or duplicate one)."""
        pcm = ulaw_to_pcm16(packet.payload)
        if self._next_sequence is not None:
            gap = (packet.sequence - self._next_sequence) & 0xFFFF
            if gap >= 0x8000:
                self.counts.late += 1
                return []  # late or repeated
            if 0 < gap <= MAX_GAP_FRAMES:
                self.counts.lost += gap
                self._pending += b"\x00\x00" * self._samples_per_packet * gap
        self.counts.packets += 1
        if packet.payload:
            self._samples_per_packet = len(packet.payload)
        self._next_sequence = (packet.sequence + 1) & 0xFFFF
        self._pending += pcm
        whole = len(self._pending) - len(self._pending) % FRAME_BYTES
        frames = [self._pending[i : i + FRAME_BYTES] for i in range(0, whole, FRAME_BYTES)]
        self._pending = self._pending[whole:]
        return frames


FrameSink = Callable[[bytes], None]
"""Takes one 20 ms PCM frame (the call's detector)."""


class RtpReceiver(asyncio.DatagramProtocol):
    """One UDP socket on loopback for every call being listened to. `expect(source, sink)`
    routes the datagrams from `source` (the externalMedia channel's local address) to `sink`,
    frame by frame; `forget(source)` stops it. Datagrams from anyone else are dropped."""

    def __init__(self) -> None:
        self._routes: dict[Address, tuple[Framer, Lateness, FrameSink]] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self.dropped = 0
        """Datagrams no call expected, or that were not RTP."""
        self.counts = RtpCounts()

    @classmethod
    async def bound(cls, host: str = "127.0.0.1", port: int = 0) -> RtpReceiver:
        """A receiver listening on host:port (0: a free port, see `address`)."""
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(cls, local_addr=(host, port))
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        return protocol

    @property
    def receive_buffer_bytes(self) -> int:
        """The socket's receive buffer as the kernel granted it (Linux reports twice the
        request, for its bookkeeping)."""
        assert self._transport is not None, "not bound"
        sock = self._transport.get_extra_info("socket")
        return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))

    @property
    def address(self) -> Address:
        assert self._transport is not None, "not bound"
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def expect(self, source: Address, sink: FrameSink) -> None:
        self._routes[source] = (Framer(self.counts), Lateness(), sink)

    def forget(self, source: Address) -> None:
        self._routes.pop(source, None)

    @property
    def routes(self) -> int:
        return len(self._routes)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        arrival = time.monotonic()
        cpu = time.thread_time()
        try:
            self._handle(data, addr, arrival)
        finally:
            self.counts.cpu_s += time.thread_time() - cpu

    def _handle(self, data: bytes, addr: tuple[str | object, ...], arrival: float) -> None:
        route = self._routes.get((str(addr[0]), int(str(addr[1]))))
        if route is None:
            self.dropped += 1
            return
        try:
            packet = parse_rtp(data)
        except RtpError as exc:
            self.dropped += 1
            log.debug("dropped a datagram from %s: %s", addr, exc)
            return
        if packet.payload_type != PCMU:
            self.dropped += 1
            return
        framer, lateness, sink = route
        delay = lateness.delay_ms(packet.timestamp, arrival)
        if delay >= DELAYED_MS:
            self.counts.delayed += 1
        self.counts.max_delay_ms = max(self.counts.max_delay_ms, delay)
        for frame in framer.push(packet):
            sink(frame)

    def close(self) -> None:
        self._routes.clear()
        if self._transport is not None:
            self._transport.close()
