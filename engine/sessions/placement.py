"""Pure rules of where things live when one engine drives several dialer nodes.

A node is named by its ``[[nodes]]`` name; ``None`` stands for the single node of a
deployment without ``[[nodes]]``, which holds every session and every call, as before.
A voter's call lives on the node of the volunteer it is for: a node's calls are only ever
connected to sessions on that node, and its channel ids carry the node's name, so a node
that starts (or restarts) adopts or closes only its own calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.models import Session


def on_node(session: Session, node: str | None) -> bool:
    """Whether the session's phone or browser leg lives on ``node``."""
    return node is None or session.node == node


def node_channel_id(node: str | None, channel_id: str) -> str:
    """The id of a channel the engine creates on ``node``: ``<node>.<channel_id>``."""
    return channel_id if node is None else f"{node}.{channel_id}"


def local_channel_id(node: str | None, channel_id: str) -> str:
    """The id node_channel_id was given: ``channel_id`` without its ``<node>.`` prefix."""
    prefix = f"{node}."
    return channel_id[len(prefix) :] if node and channel_id.startswith(prefix) else channel_id


def channel_on_node(node: str | None, channel_id: str | None) -> bool:
    """Whether a channel id made by node_channel_id belongs to ``node``."""
    return node is None or (channel_id or "").startswith(f"{node}.")


@dataclass(frozen=True)
class NodeLoad:
    """A node as the choice of a new volunteer's node sees it."""

    name: str
    healthy: bool
    """Its ARI events connection is up and its trunk is up."""
    live_channels: int
    """Volunteers' legs and voters' calls on it now."""


def choose_node(loads: Iterable[NodeLoad]) -> str | None:
    """The healthy node with the fewest live channels (ties: the first by name), or None
    when no node is healthy."""
    healthy = [load for load in loads if load.healthy]
    if not healthy:
        return None
    return min(healthy, key=lambda load: (load.live_channels, load.name)).name
