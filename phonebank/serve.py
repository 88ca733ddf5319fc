"""`phonebank run`: the PBX pair, the engine and the web app in one process until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable
from pathlib import PurePosixPath

from engine.app import Engine
from engine.ari.client import AriSettings
from engine.config import Config
from engine.errors import SetupError
from engine.pbx.adopt import adopt_pair
from engine.pbx.pair import PbxPair, start_pair
from engine.pbx.ports import port_free
from engine.pbx.supervisor import PbxSupervisor
from engine.telephony.sounds import SoundLibrary
from phonebank.demo import load_demo
from web.app import run_web

log = logging.getLogger(__name__)

SOUNDS = PurePosixPath("/srv/phonebank/sounds")


def serve(cfg: Config, *, demo: bool = False) -> int:
    """Raises SetupError (e.g. the web port is taken) before anything is started."""
    if cfg.web.port and not port_free(cfg.web.port, socket.SOCK_STREAM, cfg.web.host):
        raise SetupError(
            f"port {cfg.web.port}/tcp for the web app is already in use by another program: "
            "stop that program or set web.port (PHONEBANK_WEB_PORT; 0 picks a free one)"
        )
    pair = adopt_pair(cfg.pbx, cfg.pbx.name, cfg.trunk) or start_pair(
        cfg.pbx, cfg.pbx.name, real_trunk=cfg.trunk
    )
    try:
        return asyncio.run(_serve(cfg, pair, demo))
    finally:
        pair.stop()
        print("stopped everything phonebank started")


async def _serve(cfg: Config, pair: PbxPair, demo: bool) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    spec = pair.dialer.spec
    ari = AriSettings(spec.ari_url, spec.ari_user, spec.ari_password, spec.ari_app)
    runtime = pair.dialer.runtime
    inner = SOUNDS if runtime.chroot else PurePosixPath(cfg.pbx.state_dir / "sounds")
    sounds = SoundLibrary(runtime.host_path(inner), inner)
    async with Engine.running(cfg, ari, sounds) as engine, run_web(engine, cfg.web) as url:
        supervisor = PbxSupervisor(
            pair,
            cfg.pbx.start_timeout,
            _tell_pages(engine),
            watchdog_seconds=cfg.pbx.watchdog_seconds,
        )
        supervision = asyncio.create_task(supervisor.run(), name="pbx-supervisor")
        demo_task = None
        if demo:
            demo_task = asyncio.create_task(load_demo(engine, pair, url))
        for instance in pair.instances:
            print(
                f"{instance.spec.name:8} Asterisk pid {instance.pid}, "
                f"log {instance.path('log')}/messages.log"
            )
        print(f"web app and API at {url} (docs/api.md); call-in number {cfg.pbx.callin_number}")
        print("phonebank is running; press Ctrl-C to stop.", flush=True)
        await stop.wait()
        supervision.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await supervision
        if demo_task is not None:
            demo_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await demo_task
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
