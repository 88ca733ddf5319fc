"""How many live-events WebSockets one credential may hold at once.

Each credential (a volunteer's session, an operator) may hold a bounded number of sockets;
one more is refused (429) until one closes, so a leaked token cannot pin unbounded memory
and event queues. Refusing the new one (rather than closing the oldest) keeps two tabs from
pushing each other out in a loop: the pages reconnect with a back-off, so a refused tab
retries and gets in once a dead connection has been noticed (within a heartbeat).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from engine.errors import RateLimited

SOCKETS_PER_SESSION = 5
"""Open event sockets per volunteer session (one tab needs one; reloads briefly overlap)."""
SOCKETS_PER_OPERATOR = 10
"""Open event sockets per operator, API tokens and signed-in pages together."""
RETRY_SECONDS = 30.0
"""Retry-After for a refused socket: a dropped connection is noticed within a heartbeat."""


@dataclass(frozen=True)
class Quota:
    """The sockets one credential may hold: counted under ``key``, at most ``limit``;
    ``who`` names the credential in the refusal ("sign-in", "operator")."""

    key: str
    limit: int
    who: str


def session_quota(session_id: int) -> Quota:
    return Quota(f"session:{session_id}", SOCKETS_PER_SESSION, "sign-in")


def operator_quota(username: str) -> Quota:
    """One operator's sockets, API tokens and signed-in pages together."""
    return Quota(f"operator:{username}", SOCKETS_PER_OPERATOR, "operator")


class SocketCounts:
    """Open sockets per credential key, held for the life of each socket."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}

    def open_count(self, key: str) -> int:
        return self._open.get(key, 0)

    @contextlib.contextmanager
    def hold(self, quota: Quota) -> Iterator[None]:
        """Count one socket under ``quota.key`` while the block runs. Raises RateLimited
        (before the block) when ``quota.limit`` are already open."""
        key, limit = quota.key, quota.limit
        if self._open.get(key, 0) >= limit:
            raise RateLimited(
                f"too many live connections for this {quota.who}: at most {limit} at once; "
                "close another tab or window of this page",
                RETRY_SECONDS,
            )
        self._open[key] = self._open.get(key, 0) + 1
        try:
            yield
        finally:
            self._open[key] -= 1
            if not self._open[key]:
                del self._open[key]
