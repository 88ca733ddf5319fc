"""What the volunteer-facing services ask of the telephony side (engine/telephony/runtime.py
implements both; engine/app.py has a stand-in for when no PBX is attached)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from engine.models import Session
from engine.notifier import DialingView

JOIN_EXTENSION = "join"


@dataclass(frozen=True)
class BrowserLogin:
    """What one session's page needs to call in: shown only to that session's token holder."""

    session_id: int
    endpoint: str
    """Also the SIP username."""
    password: str
    ws_url: str
    """SIP over WebSocket, e.g. ws://127.0.0.1:8088/ws, or wss://dial.example.org/ws behind
    the TLS proxy."""

    @property
    def uri(self) -> str:
        """The address the page calls, e.g. sip:join@127.0.0.1."""
        host = urlsplit(self.ws_url).hostname or ""
        return f"sip:{JOIN_EXTENSION}@{f'[{host}]' if ':' in host else host}"


class CallControl(Protocol):
    """What the volunteer service asks of the telephony side."""

    async def end_call(self, session: Session) -> None:
        """Hang up the voter's leg of the session's current call (the volunteer stays)."""

    def wake(self, campaign_id: int) -> None:
        """A volunteer became ready: the campaign's dialer should look again now."""

    async def open_browser_audio(self, session: Session) -> None:
        """Create the SIP credentials the session's browser calls in with (removed when the
        session is released). Raises AriError when the PBX refuses."""

    def browser_login(self, session_id: int) -> BrowserLogin | None:
        """The session's browser credentials, or None (phone mode, or already released)."""

    def dialing(self) -> DialingView:
        """Whether dialing is held now: ``{"paused": bool, "message": str}``."""


@runtime_checkable
class PreviewControl(Protocol):
    """What preview dialing asks of the telephony side (engine/calls/preview.py); a
    CallControl without it (no PBX attached) cannot place preview calls."""

    async def place_preview_call(self, session: Session) -> str | None:
        """Call the voter the session is previewing; the session becomes RINGING. Returns
        None, or a sentence saying why the voter was given back instead (now on the
        do-not-call list, outside calling hours). Raises NotAllowed when there is no card."""

    async def release_preview(self, session: Session) -> bool:
        """Give back the voter the session holds: untouched while previewing, or hang up the
        ringing call (an unanswered attempt). False if the voter already answered."""
