"""Short-lived TURN credentials, the TURN REST API scheme coturn checks with
``--use-auth-secret``: the username is ``"<unix expiry>:pb-<session id>"`` and the password
is base64(HMAC-SHA1(secret, username)). coturn recomputes the password from the username and
refuses it once the expiry has passed, so nothing is stored on either side and a leaked pair
is only good until it expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from engine.config import TurnConfig, WebConfig


@dataclass(frozen=True)
class TurnCredential:
    username: str
    credential: str
    expires: int
    """Unix time after which the TURN server refuses it."""


def turn_username(expires: int, session_id: int) -> str:
    return f"{expires}:pb-{session_id}"


def turn_password(secret: str, username: str) -> str:
    """base64(HMAC-SHA1(secret, username)), as coturn computes it."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def mint(secret: str, session_id: int, now: float, ttl_seconds: int) -> TurnCredential:
    """Credentials for one browser session, valid for ``ttl_seconds`` from ``now``."""
    expires = int(now) + ttl_seconds
    username = turn_username(expires, session_id)
    return TurnCredential(username, turn_password(secret, username), expires)


def turn_ice_server(urls: list[str], credential: TurnCredential) -> dict[str, Any]:
    """The RTCIceServer entry for RTCPeerConnection's ``iceServers``."""
    return {"urls": urls, "username": credential.username, "credential": credential.credential}


def softphone_ice(web: WebConfig, turn: TurnConfig, session_id: int, now: float) -> dict[str, Any]:
    """One session's ICE settings for its page: the configured STUN servers plus, with [turn]
    set, a TURN entry whose credentials are minted for this session alone; and the
    ``iceTransportPolicy`` (``relay``: media only through TURN)."""
    servers = web.ice_server_list()
    if turn.secret:
        servers.append(
            turn_ice_server(turn.url_list(), mint(turn.secret, session_id, now, turn.ttl_seconds))
        )
    return {"ice_servers": servers, "ice_transport_policy": web.ice_transport_policy}
