"""Before `phonebank run` drives ``[[nodes]]``: does each node's ARI answer, with these
credentials? A node that cannot be used is named with what to check on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from engine.ari.client import AriClient, AriSettings
from engine.config import NodeConfig
from engine.errors import AriError, AriUnauthorized, AriUnavailable, ConfigError, SetupError

PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class NodeProblem:
    node: str
    fatal: bool
    """A configuration mistake (wrong credentials, no ARI there): start-up stops. Otherwise
    the node may just be down: the engine starts without it."""
    message: str


def problem_of(node: NodeConfig, error: BaseException) -> NodeProblem:
    """What to tell the operator about ``node`` whose ARI probe failed with ``error``."""
    where = f"node {node.name} (ari_url {node.ari_url})"
    if isinstance(error, AriUnauthorized):
        return NodeProblem(
            node.name,
            True,
            f"{where} refused ari_user {node.ari_user!r}: check nodes[].ari_user and "
            "ari_password against the [user] section of the node's ari.conf",
        )
    if isinstance(error, AriUnavailable | TimeoutError | OSError):
        return NodeProblem(
            node.name,
            False,
            f"{where} does not answer: check that its Asterisk runs, that its HTTP server "
            "binds an address this machine reaches on that port (pbx.dialer_http_bind in "
            "the node's phonebank.toml, or http.conf's bindaddr; not 127.0.0.1), and that "
            f"no firewall drops it ({error})",
        )
    return NodeProblem(
        node.name,
        True,
        f"{where} answered but is not a usable Asterisk ARI: check that ari_url is the "
        "node's Asterisk HTTP server and that ari.conf has enabled = yes and res_ari is "
        f"loaded ({error})",
    )


async def probe_node(node: NodeConfig) -> NodeProblem | None:
    """Ask the node's ARI for /asterisk/info; None when it answers."""
    settings = AriSettings(node.ari_url, node.ari_user, node.ari_password, "")
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S), AriClient.connect(settings):
            return None
    except ConfigError:
        raise
    except (AriError, TimeoutError, OSError) as error:
        return problem_of(node, error)


async def probe_nodes(nodes: Sequence[NodeConfig]) -> list[NodeProblem]:
    """Probe every node at once. Raises SetupError when a node is misconfigured or when none
    answers; returns the problems of the nodes that are only unreachable."""
    found = await asyncio.gather(*(probe_node(node) for node in nodes))
    problems = [problem for problem in found if problem is not None]
    fatal = [problem for problem in problems if problem.fatal]
    if fatal or (problems and len(problems) == len(nodes)):
        shown = fatal or problems
        lines = "\n  ".join(problem.message for problem in shown)
        what = "cannot be used" if fatal else "answers"
        raise SetupError(
            f"{'a dialer node' if fatal else 'none of the dialer nodes'} ([[nodes]]) {what}:"
            f"\n  {lines}"
        )
    return problems
