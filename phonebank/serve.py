"""`phonebank run`: the dialer PBX, the engine and the web app in one process until Ctrl-C
(with ``[[nodes]]``: the engine and the web app driving those nodes, phonebank/serve_nodes.py).

The phone network is the SIP carrier of ``[trunk]``: only the dialer PBX is started. The test
bed (`python -m testbed run`, what `make run` runs) starts its carrier simulator beside it and
serves the same way through ``serve_on``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Coroutine
from pathlib import Path, PurePosixPath
from typing import Any

from engine.app import Engine
from engine.ari.client import AriSettings
from engine.audio.sounds import SoundLibrary
from engine.config import Config, WebConfig
from engine.errors import SetupError
from engine.pbx.adopt import adopt_run
from engine.pbx.dialer import real_trunk_of, start_dialer
from engine.pbx.ports import port_free
from engine.pbx.run import PbxRun, config_fingerprint
from engine.pbx.supervisor import PbxSupervisor
from phonebank.onboarding import phonebank_command, running_lines, site_url
from phonebank.serve_nodes import serve_nodes
from web.app import run_web

log = logging.getLogger(__name__)

SOUNDS = PurePosixPath("/srv/phonebank/sounds")
NO_PHONE_NETWORK = (
    "trunk.host is not set, so there is no phone network to call through: set [trunk] host "
    "(PHONEBANK_TRUNK_HOST) to your SIP carrier, or run 'make run' (python -m testbed run) "
    "to use the carrier simulator"
)

Companion = Callable[[Engine, str], Coroutine[Any, Any, None]]
"""Work run beside the engine and the web app once both are up, given the engine and the web
app's URL, and cancelled at the end (the test bed's demo volunteers)."""


def check_web_port(web: WebConfig) -> None:
    """Raises SetupError when the configured web port is taken (before anything is started)."""
    if web.port and not port_free(web.port, socket.SOCK_STREAM, web.host):
        raise SetupError(
            f"port {web.port}/tcp for the web app is already in use by another program: "
            "stop that program or set web.port (PHONEBANK_WEB_PORT; 0 picks a free one)"
        )


def serve(cfg: Config, config: Path | None = None) -> int:
    """Start (or re-attach to) the dialer PBX alone and serve until SIGINT or SIGTERM.

    With ``[[nodes]]``, drive those nodes instead and start no PBX (phonebank/serve_nodes.py).

    Raises SetupError (the web port is taken, no [trunk] is configured) before anything is
    started, or PbxStartError."""
    check_web_port(cfg.web)
    if cfg.nodes:
        return serve_nodes(cfg, config)
    real = real_trunk_of(cfg.trunk)
    if real is None:
        raise SetupError(NO_PHONE_NETWORK)
    run = adopt_run(cfg.pbx, cfg.pbx.name, config_fingerprint(cfg.pbx, real)) or start_dialer(
        cfg.pbx, cfg.pbx.name, real
    )
    return serve_on(cfg, run, config=config)


def serve_on(
    cfg: Config, run: PbxRun, companion: Companion | None = None, config: Path | None = None
) -> int:
    """Run the engine and the web app on the started ``run`` (supervised) until SIGINT or
    SIGTERM, with ``companion`` beside them; stop ``run`` at the end. ``config`` is the
    configuration file the command was given, named in the hints it prints."""
    try:
        return asyncio.run(_serve(cfg, run, companion, config))
    finally:
        run.stop()
        print("stopped everything phonebank started")


async def _serve(cfg: Config, pbx: PbxRun, companion: Companion | None, config: Path | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    spec = pbx.dialer.spec
    ari = AriSettings(spec.ari_url, spec.ari_user, spec.ari_password, spec.ari_app)
    runtime = pbx.dialer.runtime
    inner = SOUNDS if runtime.chroot else PurePosixPath(cfg.pbx.state_dir / "sounds")
    sounds = SoundLibrary(runtime.host_path(inner), inner)
    async with Engine.running(cfg, ari, sounds) as engine, run_web(engine, cfg.web) as url:
        supervisor = PbxSupervisor(
            pbx,
            cfg.pbx.start_timeout,
            _tell_pages(engine),
            watchdog_seconds=cfg.pbx.watchdog_seconds,
        )
        supervision = asyncio.create_task(supervisor.run(), name="pbx-supervisor")
        beside: asyncio.Task[None] | None = None
        if companion is not None:
            beside = asyncio.create_task(companion(engine, url), name="companion")
        for instance in pbx.instances:
            print(
                f"{instance.spec.name:8} Asterisk pid {instance.pid}, "
                f"log {instance.path('log')}/messages.log"
            )
        print(f"web app and API at {url} (docs/api.md); call-in number {cfg.pbx.callin_number}")
        operators = await engine.store.count_operators()
        for line in running_lines(site_url(cfg.web, url), operators, config, phonebank_command()):
            print(line)
        print("phonebank is running; press Ctrl-C to stop.", flush=True)
        await stop.wait()
        supervision.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await supervision
        if beside is not None:
            beside.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beside
    return 0


def _tell_pages(engine: Engine) -> Callable[[str, str], None]:
    """Say on every page that the phone system is being restarted (the engine says when it is
    back, once it has checked which calls survived)."""

    def tell(name: str, what: str) -> None:
        # Only the dialer PBX carries volunteers' calls; the carrier simulator restarting
        # shows as the trunk going down and back (the "dialing" notice).
        if engine.telephony is not None and name == "dialer" and what == "restarting":
            engine.telephony.notify(available=False, message=PBX_RESTARTING)

    return tell


PBX_RESTARTING = (
    "The phone system stopped and is restarting: your calls will resume automatically. "
    "If you joined by phone, call back in with your PIN once it is back."
)
