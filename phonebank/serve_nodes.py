"""`phonebank run` with ``[[nodes]]``: the engine and the web app driving dialer nodes that run
already (each someone else's Asterisk, reached by its ARI URL), until SIGINT or SIGTERM.

It starts no PBX. With a postgresql:// ``engine.database`` it is one of the engines sharing
that database: it drives the nodes whose leases it wins, and another engine takes them over
when it dies (engine/cluster/). With SQLite it is the only engine and drives every node.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path, PurePosixPath

from engine.app import Engine
from engine.audio.sounds import SoundLibrary
from engine.config import Config
from engine.nodes.runtime import node_specs
from engine.store.open import backend_of
from phonebank.node_probe import NodeProblem, probe_nodes
from phonebank.onboarding import phonebank_command, running_lines, site_url
from phonebank.sounds import write_sounds
from web.app import run_web

log = logging.getLogger(__name__)

OWNERSHIP_POLL_S = 1.0

SQLITE_NOTE = (
    "database: SQLite, so this is the only engine and it drives every node; run no second "
    "`phonebank run` on these nodes (engines that take over for each other need "
    "engine.database = postgresql://...)"
)


def serve_nodes(cfg: Config, config: Path | None = None) -> int:
    """Serve with the configured nodes until SIGINT or SIGTERM. Raises SetupError when a node
    is misconfigured or none answers, or espeak-ng/sox are missing; ConfigError for a bad
    engine.database."""
    backend_of(cfg.engine.database)
    return asyncio.run(_serve_nodes(cfg, config))


async def _serve_nodes(cfg: Config, config: Path | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    problems = {problem.node: problem for problem in await probe_nodes(cfg.nodes)}
    for problem in problems.values():
        print(f"warning: {problem.message}; starting without it", flush=True)
    written = await write_sounds(cfg, cfg.engine.sounds_dir)
    print(f"sounds: {written} messages in {cfg.engine.sounds_dir}")
    sounds = SoundLibrary(cfg.engine.sounds_dir, PurePosixPath(cfg.engine.sounds_dir))
    specs = node_specs(cfg)
    if backend_of(cfg.engine.database) == "sqlite":
        # With leases (PostgreSQL) a node that fails to attach is released and tried again.
        specs = [spec for spec in specs if spec.name not in problems]
    async with (
        Engine.running(cfg, sounds=sounds, nodes=specs) as engine,
        run_web(engine, cfg.web) as url,
    ):
        if engine.cluster is None:
            print(SQLITE_NOTE)
        else:
            print(f"engine {engine.cluster.me.engine_id} on PostgreSQL, with the engines there")
        shown = driven_now(engine)
        for line in await node_lines(engine, cfg, problems):
            print(line)
        print(f"web app and API at {url} (docs/api.md); call-in number {cfg.pbx.callin_number}")
        operators = await engine.store.count_operators()
        for line in running_lines(site_url(cfg.web, url), operators, config, phonebank_command()):
            print(line)
        print("phonebank is running; press Ctrl-C to stop.", flush=True)
        watch = asyncio.create_task(watch_ownership(engine, shown), name="node ownership")
        await stop.wait()
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
    print("stopped the engine and the web app (the nodes' Asterisks keep running)")
    return 0


async def node_lines(engine: Engine, cfg: Config, problems: dict[str, NodeProblem]) -> list[str]:
    """One line per configured node: its addresses and who drives it now."""
    drivers: dict[str, str] = {}
    if engine.cluster is not None:
        for view in await engine.cluster.engines(engine.store):
            for name in view.nodes:
                drivers[name] = view.engine_id
    lines = []
    for node in cfg.nodes:
        lines.append(
            f"node {node.name:10} ARI {node.ari_url}  SIP {node.sip_address}  "
            + owner_text(engine, node.name, drivers, problems)
        )
    return lines


def owner_text(
    engine: Engine, name: str, drivers: dict[str, str], problems: dict[str, NodeProblem]
) -> str:
    """Whether this engine drives node ``name``, and if not, who does or why not."""
    if name in engine.nodes:
        return "driven by this engine"
    if engine.cluster is not None:
        other = drivers.get(name)
        if other and other != engine.cluster.me.engine_id:
            return f"driven by engine {other}"
        return "not driven by this engine yet (waiting for its lease)"
    if name in problems:
        return "NOT driven: its ARI did not answer at start (see the warning above)"
    return "NOT driven: it did not answer when attached (see the log)"


def driven_now(engine: Engine) -> set[str]:
    return {name for name in engine.nodes if name is not None}


async def watch_ownership(engine: Engine, driven: set[str]) -> None:
    """Print each node this engine starts or stops driving (leases won, lost or handed on)
    since it drove ``driven``."""
    while True:
        await asyncio.sleep(OWNERSHIP_POLL_S)
        now = driven_now(engine)
        for name in sorted(now - driven):
            print(f"node {name}: now driven by this engine", flush=True)
        for name in sorted(driven - now):
            print(f"node {name}: no longer driven by this engine", flush=True)
        driven = now
