"""Which nodes an engine tries to win and which it gives up: pure rules, no I/O
(engine/cluster/leases.py applies them every second).

- Balance: an engine owns at most ``fair_share`` = ceil(nodes / engines alive). Engines that
  died no longer count, so the survivors' share grows to cover every node.
- Preference: an engine tries its preferred nodes first; a free node another live engine
  prefers is left to that engine for ``patience`` seconds (it should win it within one tick).
- Handing over: an engine over its share gives up one node per tick, but only when a live
  engine under its share can take it; it gives up first a node that engine prefers.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

LOCK_SPACE = 0x6E6F6465
"""'node': the high 32 bits of every node's advisory lock key (pg_locks.classid)."""


def lock_key(node: str) -> int:
    """The 64-bit advisory lock key of ``node``: LOCK_SPACE, then the CRC-32 of its name
    (pg_locks shows them as classid and objid)."""
    return (LOCK_SPACE << 32) | zlib.crc32(node.encode())


def lock_keys(nodes: Sequence[str]) -> dict[int, str]:
    """Each node's lock key. Raises ValueError if two names share one (rename a node)."""
    keys: dict[int, str] = {}
    for node in nodes:
        key = lock_key(node)
        if key in keys and keys[key] != node:
            raise ValueError(f"nodes {keys[key]!r} and {node!r} have the same lock key")
        keys[key] = node
    return keys


def fair_share(nodes: int, engines_alive: int) -> int:
    """The most nodes one engine owns while ``engines_alive`` engines (itself included) share
    ``nodes``."""
    return math.ceil(nodes / max(engines_alive, 1))


@dataclass(frozen=True)
class Peer:
    """Another live engine, as the engines table says."""

    engine_id: str
    nodes: frozenset[str]
    preferred: frozenset[str]


@dataclass(frozen=True)
class Plan:
    take: tuple[str, ...]
    """Free nodes to try to lock, in order."""
    release: tuple[str, ...]
    """Owned nodes to give up."""


def plan(
    nodes: Sequence[str],
    owned: Collection[str],
    preferred: Collection[str],
    peers: Collection[Peer],
    held: Collection[str],
    free_for: Mapping[str, float],
    patience: float,
) -> Plan:
    """What to do this tick. ``held``: nodes anyone holds the lock of (ours too);
    ``free_for``: how long each free node has been seen free, in seconds."""
    share = fair_share(len(nodes), 1 + len(peers))
    if len(owned) > share:
        return Plan(take=(), release=_surplus(nodes, owned, preferred, peers, share))
    theirs = frozenset().union(*(peer.preferred for peer in peers))
    free = [node for node in nodes if node not in held and node not in owned]
    mine = [node for node in free if node in preferred]
    anyones = [node for node in free if node not in preferred and node not in theirs]
    left = [
        node
        for node in free
        if node not in preferred and node in theirs and free_for.get(node, 0.0) >= patience
    ]
    return Plan(take=tuple([*mine, *anyones, *left][: share - len(owned)]), release=())


def _surplus(
    nodes: Sequence[str],
    owned: Collection[str],
    preferred: Collection[str],
    peers: Collection[Peer],
    share: int,
) -> tuple[str, ...]:
    """One node to give up to a live engine under its share, or none if nobody has room."""
    takers = [peer for peer in peers if len(peer.nodes) < share]
    if not takers:
        return ()
    wanted = frozenset().union(*(peer.preferred for peer in takers))
    ours = [node for node in reversed(nodes) if node in owned]
    for node in ours:
        if node in wanted and node not in preferred:
            return (node,)
    for node in ours:
        if node not in preferred:
            return (node,)
    return (ours[0],)
