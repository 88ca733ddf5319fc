"""`phonebank check`: is the deployment reachable the way volunteers reach it? Behind the TLS
proxy (web.public_url): a valid certificate, /api/health through the proxy, a WebSocket
upgrade to Asterisk's SIP WebSocket at /ws; and every [turn] URL answering. One line per
check, one sentence per failure; exit code 1 when any failed."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ssl
from pathlib import Path

import aiohttp

from engine.config import Config
from phonebank import check_targets as say
from phonebank.check_targets import TurnTarget, public_site, turn_targets
from phonebank.stun_probe import stun_binding

NOTHING_TO_CHECK = (
    "nothing to check: set web.public_url (the https:// address volunteers open) and/or "
    "[turn] urls and secret"
)


def add_check_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser(
        "check",
        help="check the deployment from outside: the proxy's certificate, /api/health and "
        "the /ws WebSocket through it, and the TURN servers (exit 1 on any failure)",
    )
    check.add_argument(
        "--ca-file",
        type=Path,
        help="also trust this CA (e.g. Caddy's internal CA root.crt with 'tls internal')",
    )
    check.add_argument("--timeout", type=float, default=10.0, help="seconds per probe")
    check.set_defaults(func=cmd_check)


def cmd_check(cfg: Config, args: argparse.Namespace) -> int:
    failures = asyncio.run(run_checks(cfg, args.ca_file, args.timeout))
    return 1 if failures else 0


async def run_checks(cfg: Config, ca_file: Path | None = None, timeout: float = 10.0) -> list[str]:
    """Run every check that applies, printing a line each; returns the failure sentences."""
    failures: list[str] = []

    def report(ok: str, failure: str | None) -> None:
        print(f"FAIL {failure}" if failure else f"ok   {ok}", flush=True)
        if failure:
            failures.append(failure)

    url = cfg.web.public_url
    if not url and not cfg.turn.urls:
        report("", NOTHING_TO_CHECK)
        return failures
    if url:
        context = ssl.create_default_context()
        if ca_file is not None:
            context.load_verify_locations(cafile=str(ca_file))
        tls = await check_certificate(url, context, timeout)
        report(f"{url} has a valid certificate", tls)
        if tls is None:
            report(
                "/api/health answers through the proxy", await check_health(url, context, timeout)
            )
            report(
                "/ws upgrades to Asterisk's SIP WebSocket through the proxy",
                await check_websocket(url, context, timeout),
            )
    for target in turn_targets(cfg.turn.url_list()):
        report(f"TURN {target.url} answers", await check_turn(target, timeout))
    return failures


async def check_certificate(url: str, context: ssl.SSLContext, timeout: float) -> str | None:
    host, port = public_site(url)
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, server_hostname=host), timeout
        )
    except ssl.SSLError:
        return say.no_certificate(url)
    except (OSError, TimeoutError):
        return say.unreachable(url)
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError):
        await writer.wait_closed()
    return None


async def check_health(url: str, context: ssl.SSLContext, timeout: float) -> str | None:
    try:
        async with (
            _client(context, timeout) as http,
            http.get(f"{url.rstrip('/')}/api/health", allow_redirects=False) as response,
        ):
            if response.status != 200:
                return say.health_failed(url, f"HTTP {response.status}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        return say.health_failed(url, type(exc).__name__)
    return None


async def check_websocket(url: str, context: ssl.SSLContext, timeout: float) -> str | None:
    try:
        async with (
            _client(context, timeout) as http,
            http.ws_connect(f"{url.rstrip('/')}/ws", protocols=("sip",), origin=url) as ws,
        ):
            if ws.protocol != "sip":
                return say.websocket_failed("the WebSocket there is not Asterisk's (no 'sip')")
    except aiohttp.WSServerHandshakeError as exc:
        return say.websocket_failed(f"it answered HTTP {exc.status} instead of a WebSocket")
    except (aiohttp.ClientError, TimeoutError) as exc:
        return say.websocket_failed(f"the upgrade failed ({type(exc).__name__})")
    return None


async def check_turn(target: TurnTarget, timeout: float) -> str | None:
    if target.transport == "udp":
        answer = await stun_binding(target.host, target.port, timeout=min(timeout, 3.0))
        return None if answer is not None else say.turn_failed(target)
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(target.host, target.port), timeout
        )
    except (OSError, TimeoutError):
        return say.turn_failed(target)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return None


def _client(context: ssl.SSLContext, timeout: float) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=context),
        timeout=aiohttp.ClientTimeout(total=timeout),
    )
