"""Where Asterisk's REST Interface is and who we are to it: one frozen settings object."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AriSettings:
    url: str  # e.g. "http://127.0.0.1:8088"; the ARI base is url + "/ari"
    username: str
    password: str
    app: str  # Stasis application name for the events websocket; "" for REST only
    subscribe_all: bool = False
