"""Dropping ARI events Asterisk delivers twice.

The app is subscribed both to the trunk endpoint and (while in Stasis) to each channel, so
Asterisk delivers some events twice; exact repeats among the recent events are dropped. Our
own events (the events websocket lost and back) are never dropped: each one counts.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Mapping
from typing import Any

from engine.ari.event_types import OUR_TYPES

DEDUP_WINDOW = 64


class RepeatFilter:
    def __init__(self, window: int = DEDUP_WINDOW) -> None:
        self._recent: collections.deque[str] = collections.deque(maxlen=window)

    def seen(self, event: Mapping[str, Any]) -> bool:
        """True when ``event`` exactly repeats one of the last ``window`` events (it is then
        to be dropped); remembers it otherwise."""
        if event.get("type", "") in OUR_TYPES:
            return False
        fingerprint = json.dumps(event, sort_keys=True)
        if fingerprint in self._recent:
            return True
        self._recent.append(fingerprint)
        return False
