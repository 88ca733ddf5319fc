"""A separate engine process holding node leases, for tests that kill it with SIGKILL:
`python -m tests.cluster.lease_holder DSN ENGINE_ID NODE...` prints `won NODE` (flushed) for
each node it wins, then holds them until killed."""

from __future__ import annotations

import asyncio
import sys

from engine.cluster.engines import this_engine
from engine.cluster.leases import NodeLeases


async def _print(event: str, node: str) -> None:
    print(f"{event} {node}", flush=True)


async def main(dsn: str, engine_id: str, nodes: list[str]) -> None:
    async def won(node: str) -> None:
        await _print("won", node)

    async def lost(node: str) -> None:
        await _print("lost", node)

    await NodeLeases(dsn, this_engine(engine_id), nodes, won, lost).run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
