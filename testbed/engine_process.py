"""One engine with its web app in a process of its own, for beds of several engines on one
PostgreSQL (tests/integration/test_engine_takeover.py): the test can kill -9 it.

    python -m testbed.engine_process '{"database": ..., "engine_id": ..., "nodes": [...],
                                      "sounds": [host_path, inner_path]}'

Each node is {"name", "ari_url", "ari_user", "ari_password", "ari_app", "ws_url"}. It prints
``ready <web URL>`` once serving and runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import signal
import sys
from pathlib import Path, PurePosixPath
from typing import Any

from engine.app import Engine, NodeSpec
from engine.ari.client import AriSettings
from engine.audio.sounds import SoundLibrary
from engine.config import load_config
from web.app import run_web


def node_spec(node: dict[str, Any]) -> NodeSpec:
    ari = AriSettings(node["ari_url"], node["ari_user"], node["ari_password"], node["ari_app"])
    return NodeSpec(node["name"], ari, node["ws_url"])


async def serve(spec: dict[str, Any]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    cfg = load_config()
    cfg = dataclasses.replace(
        cfg,
        engine=dataclasses.replace(
            cfg.engine, database=spec["database"], engine_id=spec["engine_id"]
        ),
        web=dataclasses.replace(cfg.web, host="127.0.0.1", port=0),
    )
    host_path, inner = spec["sounds"]
    sounds = SoundLibrary(Path(host_path), PurePosixPath(inner))
    nodes = [node_spec(node) for node in spec["nodes"]]
    async with (
        Engine.running(cfg, sounds=sounds, nodes=nodes) as engine,
        run_web(engine, cfg.web) as url,
    ):
        print(f"ready {url}", flush=True)
        await stop.wait()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(serve(json.loads(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
