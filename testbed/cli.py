"""`python -m testbed`: phonebank with the carrier simulator as its phone network.

`make run` runs ``python -m testbed run``: the carrier simulator and the dialer PBX joined by a
trunk (testbed/pair.py), then the product's engine and web app exactly as `phonebank run`
serves them (phonebank/serve.py). The product never starts the simulator itself.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from engine.app import Engine
from engine.config import Config
from engine.errors import SetupError
from phonebank.cli import print_run, run_cli
from phonebank.serve import Companion, check_web_port, serve_on
from testbed.demo import load_demo
from testbed.pair import PbxPair, adopt_pair, prepare, start_pair


def main(argv: list[str] | None = None) -> int:
    return run_cli(parser(), argv)


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(prog="python -m testbed", description=__doc__)
    found.add_argument("--config", type=Path, help="TOML configuration file")
    found.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    commands = found.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="start the carrier simulator, the dialer PBX, the engine and the web app until "
        "Ctrl-C (what 'make run' runs)",
    )
    run.add_argument(
        "--demo",
        action="store_true",
        help="also load the demo campaign, worked by simulated volunteers",
    )
    run.set_defaults(func=cmd_run)
    commands.add_parser(
        "demo", help="like 'run --demo': watch simulated volunteers work a sample campaign"
    ).set_defaults(func=cmd_demo)
    commands.add_parser(
        "build", help="build or reuse the Asterisk rootfs and the synthetic voices"
    ).set_defaults(func=cmd_build)
    commands.add_parser(
        "start",
        help="start the dialer PBX and the carrier simulator in the background "
        "('phonebank pbx status|cli|stop' manage them)",
    ).set_defaults(func=cmd_start)
    return found


TESTBED_NODES = (
    "[[nodes]] is set, but `python -m testbed run` starts one dialer PBX of its own beside "
    "the carrier simulator: drive running nodes with `phonebank run` (docs/scaling.md), or "
    "remove [[nodes]] from the configuration"
)


def cmd_run(cfg: Config, args: argparse.Namespace) -> int:
    """Raises SetupError (the web port is taken, [[nodes]] is set) before anything is
    started."""
    check_web_port(cfg.web)
    if cfg.nodes:
        raise SetupError(TESTBED_NODES)
    pair = adopt_pair(cfg.pbx, cfg.pbx.name, cfg.trunk) or start_pair(
        cfg.pbx, cfg.pbx.name, real_trunk=cfg.trunk
    )
    return serve_on(cfg, pair, _demo(pair) if args.demo else None, args.config)


def cmd_demo(cfg: Config, args: argparse.Namespace) -> int:
    return cmd_run(cfg, argparse.Namespace(demo=True, config=args.config))


def cmd_build(cfg: Config, args: argparse.Namespace) -> int:
    started = time.monotonic()
    runtime, voices = prepare(cfg.pbx)
    print(f"Asterisk {runtime.version()} ready in {runtime.root} (chroot: {runtime.chroot})")
    print(f"synthetic voices in {voices}")
    print(f"took {time.monotonic() - started:.1f} s")
    return 0


def cmd_start(cfg: Config, args: argparse.Namespace) -> int:
    print_run(start_pair(cfg.pbx, cfg.pbx.name, detached=True, real_trunk=cfg.trunk))
    return 0


def _demo(pair: PbxPair) -> Companion:
    async def demo(engine: Engine, url: str) -> None:
        await load_demo(engine, pair, url)

    return demo


if __name__ == "__main__":
    sys.exit(main())
