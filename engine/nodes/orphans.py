"""What an earlier run left open that no node owns, closed once at engine start.

Each named node adopts or closes only the calls whose channel ids carry its name
(engine/telephony/recovery.py). Left over are the attempts an earlier run claimed but had not
placed yet (no channel), and those of nodes that are not attached now: nobody can still be
dialing them, so they are closed as lost (voters given back, answered calls counted).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from engine.sessions.placement import channel_on_node
from engine.store.base import Store
from engine.telephony.recovery import close_orphan


async def close_unowned_attempts(store: Store, before: datetime, nodes: Iterable[str]) -> int:
    """Close the open attempts claimed before ``before`` (the engine's start) whose channel
    belongs to none of ``nodes`` (the attached ones); return how many."""
    names = list(nodes)
    closed = 0
    for attempt in await store.open_attempts():
        if attempt.claimed_at is not None and attempt.claimed_at >= before:
            continue  # claimed by this run
        if any(channel_on_node(name, attempt.channel_id) for name in names):
            continue  # an attached node adopted it
        await close_orphan(store, attempt, "no attached node holds it at engine start")
        closed += 1
    return closed
