"""Operators' live-events sockets end with the credential that opened them.

A socket opened with an API token, or by a signed-in page, is closed (1008, with a reason the
page can show) when that token is revoked (logout), the page's session ends (logout) or the
operator is removed. A logout in this process closes its sockets at once (``close``); a
removal by `phonebank operator remove` (another process) or an expiry is noticed by each
socket's own check every CHECK_SECONDS (``watch``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator

from aiohttp import WSCloseCode, web

log = logging.getLogger(__name__)

CHECK_SECONDS = 5.0
"""How often each operator socket checks that its credential is still valid."""
LOGGED_OUT = "logged out: sign in again"
REVOKED = "this sign-in is no longer valid (logged out, expired or the operator was removed)"


class OperatorSockets:
    """Open operator sockets by credential key (``token:…`` or ``page:…``)."""

    def __init__(self) -> None:
        self._open: dict[str, set[web.WebSocketResponse]] = {}

    @contextlib.contextmanager
    def hold(self, key: str, ws: web.WebSocketResponse) -> Iterator[None]:
        """Register ``ws`` under ``key`` while the block runs."""
        self._open.setdefault(key, set()).add(ws)
        try:
            yield
        finally:
            sockets = self._open.get(key, set())
            sockets.discard(ws)
            if not sockets:
                self._open.pop(key, None)

    async def close(self, key: str, reason: str = LOGGED_OUT) -> int:
        """Close every socket opened with the credential ``key``; how many."""
        sockets = list(self._open.get(key, ()))
        for ws in sockets:
            await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=reason.encode())
        if sockets:
            log.info("closed %d operator socket(s): %s", len(sockets), reason)
        return len(sockets)


async def watch(ws: web.WebSocketResponse, still_valid: Callable[[], Awaitable[bool]]) -> None:
    """Return, closing ``ws`` with REVOKED, once ``still_valid()`` answers False (checked
    every CHECK_SECONDS); runs until cancelled otherwise."""
    while True:
        if not await still_valid():
            break
        await asyncio.sleep(CHECK_SECONDS)
    log.info("an operator socket's credential is gone: closing it")
    await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=REVOKED.encode())


def token_key(token: str) -> str:
    return f"token:{token}"


def page_key(cookie: str) -> str:
    return f"page:{cookie}"
