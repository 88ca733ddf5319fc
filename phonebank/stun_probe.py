"""Ask a STUN/TURN server over UDP whether it answers (phonebank/stun.py builds the bytes)."""

from __future__ import annotations

import asyncio
import secrets

from phonebank.stun import BindingAnswer, binding_request, parse_binding_answer


class _Binding(asyncio.DatagramProtocol):
    def __init__(self, transaction_id: bytes) -> None:
        self.transaction_id = transaction_id
        self.answer: asyncio.Future[BindingAnswer | None] = (
            asyncio.get_running_loop().create_future()
        )

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        answer = parse_binding_answer(data, self.transaction_id)
        if answer is not None and not self.answer.done():
            self.answer.set_result(answer)

    def error_received(self, exc: Exception) -> None:
        """ICMP port unreachable arrives here on a connected socket: nobody listens."""
        if isinstance(exc, ConnectionRefusedError) and not self.answer.done():
            self.answer.set_result(None)


async def stun_binding(
    host: str, port: int, timeout: float = 3.0, tries: int = 3
) -> BindingAnswer | None:
    """The server's answer to a Binding request, or None when none comes within ``timeout``
    (the request is resent ``tries`` times over that time, as UDP may drop one), or at once
    when the host says nothing listens on the port (ICMP port unreachable)."""
    tid = secrets.token_bytes(12)
    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: _Binding(tid), remote_addr=(host, port)
        )
    except OSError:
        return None
    try:
        for _ in range(tries):
            transport.sendto(binding_request(tid))
            try:
                return await asyncio.wait_for(asyncio.shield(protocol.answer), timeout / tries)
            except TimeoutError:
                continue
        return None
    finally:
        transport.close()
