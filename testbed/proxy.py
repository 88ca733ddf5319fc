"""The front proxy for tests: Debian's /usr/bin/caddy run on docker/Caddyfile (the same file
the containers use), everything site-specific from PHONEBANK_* environment placeholders.

    async with running_caddy(web="127.0.0.1:8080", pbx_ws="127.0.0.1:8088") as caddy:
        caddy.url        # https://127.0.0.1:<free port>
        caddy.ca_cert    # Caddy's internal CA root: trust it to check the certificate

Caddy's data (its CA, certificates) lives in a temporary directory removed on exit; its
admin endpoint is off; plain HTTP listens on a free port too (never 80).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import socket
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.app import Engine
from engine.ari.client import AriSettings
from engine.audio.sounds import SoundLibrary
from engine.config import Config, load_config
from engine.pbx.ports import pick_port
from testbed.pair import PbxPair
from testbed.shift import SOUNDS
from testbed.turn import stop_process
from web.app import run_web

log = logging.getLogger(__name__)

CADDY = "/usr/bin/caddy"
CADDYFILE = Path(__file__).resolve().parents[1] / "docker" / "Caddyfile"
START_SECONDS = 20.0


@dataclass(frozen=True)
class RunningCaddy:
    url: str
    """The site's https:// address (PHONEBANK_SITE)."""
    host: str
    https_port: int
    http_port: int
    data_dir: Path
    log_path: Path
    pid: int

    @property
    def ca_cert(self) -> Path:
        """The root of Caddy's internal CA (``tls internal``)."""
        return self.data_dir / "pki" / "authorities" / "local" / "root.crt"

    def ssl_context(self) -> ssl.SSLContext:
        """A client context trusting only Caddy's internal CA."""
        return ssl.create_default_context(cafile=str(self.ca_cert))


def caddy_environment(
    site: str, tls: str, web: str, pbx_ws: str, data_dir: Path, http_port: int, https_port: int
) -> dict[str, str]:
    return {
        "PHONEBANK_SITE": site,
        "PHONEBANK_TLS": tls,
        "PHONEBANK_WEB": web,
        "PHONEBANK_PBX_WS": pbx_ws,
        "PHONEBANK_CADDY_ADMIN": "off",
        "PHONEBANK_CADDY_DATA": str(data_dir),
        "PHONEBANK_HTTP_PORT": str(http_port),
        "PHONEBANK_HTTPS_PORT": str(https_port),
    }


@contextlib.asynccontextmanager
async def running_caddy(
    web: str,
    pbx_ws: str,
    *,
    host: str = "127.0.0.1",
    site: str = "",
    tls: str = "internal",
    caddyfile: Path = CADDYFILE,
    wait_for_certificate: bool = True,
    extra_env: Mapping[str, str] | None = None,
    node_routes: Mapping[str, str] | None = None,
) -> AsyncIterator[RunningCaddy]:
    """Run Caddy in front of the app at ``web`` (host:port) and Asterisk's HTTP server at
    ``pbx_ws`` (for /ws), with ``node_routes`` (file name → route, from
    engine/nodes/proxy_routes.py) imported as in production. The site is ``site`` or
    https://<host>:<free port>. Yields once
    the HTTPS port accepts connections and, with ``wait_for_certificate``, a TLS handshake
    trusting Caddy's CA succeeds. Caddy is stopped on exit, also when the block fails.

    Raises RuntimeError with Caddy's last log lines when it does not come up.
    """
    https_port = pick_port(socket.SOCK_STREAM, what="Caddy HTTPS")
    http_port = pick_port(socket.SOCK_STREAM, what="Caddy HTTP")
    site = site or f"https://{host}:{https_port}"
    with tempfile.TemporaryDirectory(prefix="pb-caddy-") as tmp:
        data_dir = Path(tmp) / "data"
        log_path = Path(tmp) / "caddy.log"
        routes = Path(tmp) / "node-routes"
        routes.mkdir()
        for name, route in (node_routes or {}).items():
            (routes / name).write_text(route)
        env = {
            **os.environ,
            "HOME": tmp,
            "XDG_DATA_HOME": str(data_dir),
            "XDG_CONFIG_HOME": str(Path(tmp) / "config"),
            **caddy_environment(site, tls, web, pbx_ws, data_dir, http_port, https_port),
            "PHONEBANK_NODE_ROUTES": str(routes),
            **(extra_env or {}),
        }
        with log_path.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                CADDY,
                "run",
                "--config",
                str(caddyfile),
                "--adapter",
                "caddyfile",
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
                cwd=tmp,
            )
        caddy = RunningCaddy(site, host, https_port, http_port, data_dir, log_path, proc.pid)
        try:
            await _wait_until_serving(proc, caddy, wait_for_certificate)
            log.info("caddy %d serving %s", proc.pid, site)
            yield caddy
        finally:
            await stop_process(proc)


async def _wait_until_serving(
    proc: asyncio.subprocess.Process, caddy: RunningCaddy, certificate: bool
) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and proc.returncode is None:
        if await _handshake(caddy, verify=certificate):
            return
        await asyncio.sleep(0.1)
    text = await asyncio.to_thread(caddy.log_path.read_text, errors="replace")
    raise RuntimeError(
        f"caddy did not serve {caddy.url} within {START_SECONDS} s: "
        + "\n".join(text.splitlines()[-15:])
    )


async def _handshake(caddy: RunningCaddy, *, verify: bool) -> bool:
    """The HTTPS port accepts a connection (and, with ``verify``, a TLS handshake trusting
    Caddy's CA completes)."""
    context: ssl.SSLContext | None = None
    if verify:
        if not caddy.ca_cert.exists():
            return False
        context = caddy.ssl_context()
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(
                caddy.host,
                caddy.https_port,
                ssl=context,
                server_hostname=caddy.host if context else None,
            ),
            2.0,
        )
    except (OSError, ssl.SSLError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError):
        await writer.wait_closed()
    return True


@dataclass(frozen=True)
class ProxiedApp:
    engine: Engine
    caddy: RunningCaddy
    cfg: Config
    """The engine's configuration: web.public_url is Caddy's address."""


@contextlib.asynccontextmanager
async def running_proxied_app(
    pair: PbxPair, database: Path, *, host: str = "127.0.0.1", caddyfile: Path = CADDYFILE
) -> AsyncIterator[ProxiedApp]:
    """The engine and web app on ``pair`` (web app on loopback) behind Caddy on ``host``,
    with web.public_url set to Caddy's https:// address; /ws goes to the dialer PBX."""
    web_port = pick_port(socket.SOCK_STREAM, what="web app")
    spec = pair.dialer.spec
    async with running_caddy(
        f"127.0.0.1:{web_port}", f"127.0.0.1:{spec.http_port}", host=host, caddyfile=caddyfile
    ) as caddy:
        cfg = load_config(environ={})
        cfg = dataclasses.replace(
            cfg,
            engine=dataclasses.replace(cfg.engine, database=str(database)),
            web=dataclasses.replace(cfg.web, port=web_port, public_url=caddy.url),
        )
        sounds = SoundLibrary(pair.dialer.runtime.host_path(SOUNDS), SOUNDS)
        ari = AriSettings(spec.ari_url, spec.ari_user, spec.ari_password, spec.ari_app)
        async with Engine.running(cfg, ari, sounds) as engine, run_web(engine, cfg.web):
            yield ProxiedApp(engine, caddy, cfg)
