"""Asterisk REST Interface client."""

from engine.ari.client import AriClient, AriSettings

__all__ = ["AriClient", "AriSettings"]
