"""Browser softphones ("Call using computer"): per-session SIP credentials on the dialer PBX.

When a volunteer signs in with audio mode 'browser', the engine creates a PJSIP endpoint, auth
and aor named ``web-<session>-<random>`` with a fresh password, through ARI's dynamic
configuration (sorcery's memory backend, see asterisk_conf/dialer/sorcery.conf.j2). The page
calls ``sip:join@...`` with them over SIP-over-WebSocket; the dialplan hands the call to the
engine with the endpoint's name, which maps back to the session. Log-out deletes the three
objects, so the credentials are refused from then on. They live in memory on both sides: an
engine restart forgets them (the volunteer signs in again); after an Asterisk restart the
engine puts them back (``restore``).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from typing import Any

from engine.ari.client import AriClient
from engine.config import TurnConfig, WebConfig
from engine.errors import AriError, AriNotFound
from engine.security.turn_credentials import softphone_ice
from engine.sessions.control import BrowserLogin

log = logging.getLogger(__name__)

OBJECT_TYPES = ("endpoint", "aor", "auth")
"""Deleted in this order: the endpoint refers to the other two."""
ENDPOINT_FIELDS = {
    # Found by its SIP username and then made to authenticate; only the trunks (pjsip.conf)
    # are found by address.
    "identify_by": "username",
    "transport": "transport-ws",
    "context": "from-browser",
    "disallow": "all",
    "allow": "opus,ulaw",
    "webrtc": "yes",
    "dtls_auto_generate_cert": "yes",
    "rtp_symmetric": "yes",
    "force_rport": "yes",
    "rewrite_contact": "yes",
    "direct_media": "no",
}


class Softphones:
    """The browser logins that exist on the PBX, by session and by endpoint."""

    def __init__(
        self,
        ari: AriClient,
        ws_url: str,
        web: WebConfig | None = None,
        turn: TurnConfig | None = None,
    ) -> None:
        self.ari = ari
        self.ws_url = ws_url
        """SIP over WebSocket: Asterisk's own /ws, or wss://<public host>/ws behind the proxy."""
        self.web = web or WebConfig()
        self.turn = turn or TurnConfig()
        self.by_session: dict[int, BrowserLogin] = {}
        self.by_endpoint: dict[str, BrowserLogin] = {}

    async def create(self, session_id: int) -> BrowserLogin:
        """Create the session's endpoint, auth and aor on the PBX. Raises AriError."""
        await self.delete(session_id)
        login = BrowserLogin(
            session_id,
            f"web-{session_id}-{secrets.token_hex(4)}",
            secrets.token_urlsafe(18),
            self.ws_url,
        )
        await self._put(login)
        self.by_session[session_id] = login
        self.by_endpoint[login.endpoint] = login
        log.info("session %d: browser credentials %s created", session_id, login.endpoint)
        return login

    def ice(self, session_id: int) -> dict[str, Any]:
        """The session's ICE servers (STUN, and TURN credentials minted for it alone) and
        transport policy: for that session's token holder only."""
        return softphone_ice(self.web, self.turn, session_id, time.time())

    async def restore(self) -> None:
        """After an Asterisk restart (its memory backend forgot them): put every session's
        credentials back as they were, so the pages' softphones can register again."""
        for login in list(self.by_session.values()):
            try:
                await self._put(login)
            except AriError as exc:
                log.warning(
                    "session %d: browser credentials not restored: %s", login.session_id, exc
                )

    async def _put(self, login: BrowserLogin) -> None:
        name = login.endpoint
        await self.ari.put_config_object(
            "res_pjsip",
            "auth",
            name,
            {"auth_type": "userpass", "username": name, "password": login.password},
        )
        await self.ari.put_config_object(
            "res_pjsip", "aor", name, {"max_contacts": "1", "remove_existing": "yes"}
        )
        await self.ari.put_config_object(
            "res_pjsip", "endpoint", name, {**ENDPOINT_FIELDS, "auth": name, "aors": name}
        )

    async def delete(self, session_id: int) -> None:
        """Remove the session's credentials from the PBX (nothing if it has none)."""
        login = self.by_session.pop(session_id, None)
        if login is None:
            return
        self.by_endpoint.pop(login.endpoint, None)
        for kind in OBJECT_TYPES:
            with contextlib.suppress(AriNotFound):
                await self.ari.delete_config_object("res_pjsip", kind, login.endpoint)
        log.info("session %d: browser credentials %s deleted", session_id, login.endpoint)
