"""`phonebank check` against real Caddy and coturn on loopback: all good exits 0; a proxy
that cannot obtain a certificate (its ACME CA is an unreachable LOCAL address, never a real
CA), a Caddyfile without /ws, and a closed TURN port each give their one sentence and exit 1."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import socket
import time
from pathlib import Path

import pytest

from engine.config import Config, TurnConfig, load_config
from engine.pbx.ports import pick_port
from phonebank import check_targets as say
from phonebank.check import run_checks
from phonebank.check_targets import TurnTarget
from phonebank.cli import main
from testbed.pair import PbxPair
from testbed.proxy import CADDYFILE, running_caddy, running_proxied_app
from testbed.turn import running_turn

SECRET = "check-secret"


def turn_urls(host: str, port: int) -> str:
    return f"turn:{host}:{port}?transport=udp,turn:{host}:{port}?transport=tcp"


def with_turn(cfg: Config, urls: str) -> Config:
    return dataclasses.replace(cfg, turn=TurnConfig(urls=urls, secret=SECRET))


def caddyfile_variant(tmp_path: Path, name: str, change: str, new: str) -> Path:
    """docker/Caddyfile with the first match of the regex ``change`` replaced by ``new``."""
    original = CADDYFILE.read_text()
    text, count = re.subn(change, new, original, count=1, flags=re.DOTALL)
    assert count == 1, f"docker/Caddyfile no longer matches {change!r}"
    path = tmp_path / name
    path.write_text(text)
    return path


async def test_a_good_setup_passes_every_check_and_exits_0(
    pbx_pair: PbxPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with (
        running_proxied_app(pbx_pair, tmp_path / "engine.db") as app,
        running_turn(SECRET) as (host, port),
    ):
        cfg = with_turn(app.cfg, turn_urls(host, port))
        assert await run_checks(cfg, app.caddy.ca_cert) == []
        config = tmp_path / "phonebank.toml"
        config.write_text(
            f'[web]\npublic_url = "{app.caddy.url}"\n'
            f'[turn]\nurls = "{turn_urls(host, port)}"\nsecret = "{SECRET}"\n'
        )
        argv = ["--config", str(config), "check", "--ca-file", str(app.caddy.ca_cert)]
        assert await asyncio.to_thread(main, argv) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and out.count("ok   ") == 2 * 5, out


async def test_no_certificate_obtainable_is_one_sentence_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = pick_port(socket.SOCK_STREAM, what="unreachable ACME CA")
    caddyfile = caddyfile_variant(
        tmp_path,
        "Caddyfile.acme",
        r"skip_install_trust",
        f"skip_install_trust\n\tacme_ca https://127.0.0.1:{closed}/directory",
    )
    async with running_caddy(
        "127.0.0.1:9",
        "127.0.0.1:9",
        tls="volunteers@example.org",
        caddyfile=caddyfile,
        wait_for_certificate=False,
    ) as caddy:
        log = await wait_for_log(caddy.log_path, "could not get certificate from issuer")
        issuers = set(re.findall(r'"issuer":"([^"]+)"', log))
        assert issuers == {f"127.0.0.1:{closed}-directory"}, log  # only the local, closed CA
        cfg = load_config(environ={"PHONEBANK_WEB_PUBLIC_URL": caddy.url})
        assert await run_checks(cfg, caddy.ca_cert, timeout=5) == [say.no_certificate(caddy.url)]
        env = {"PHONEBANK_WEB_PUBLIC_URL": caddy.url}
        assert await asyncio.to_thread(_main_with_env, ["check", "--timeout", "5"], env) == 1
    out = capsys.readouterr().out
    sentence = "has no valid certificate: the proxy could not obtain one. Check that 127.0.0.1's"
    assert out.count(sentence) == 2, out


async def wait_for_log(path: Path, text: str, seconds: float = 30.0) -> str:
    """Caddy's log once it contains ``text`` (its ACME attempt runs in the background)."""
    deadline = time.monotonic() + seconds
    while True:
        log = await asyncio.to_thread(path.read_text)
        if text in log or time.monotonic() > deadline:
            assert text in log, log
            return log
        await asyncio.sleep(0.2)


def _main_with_env(argv: list[str], env: dict[str, str]) -> int:
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        return main(argv)


async def test_a_proxy_without_ws_gives_the_websocket_sentence(
    pbx_pair: PbxPair, tmp_path: Path
) -> None:
    caddyfile = caddyfile_variant(tmp_path, "Caddyfile.nows", r"\thandle /ws \{\n.*?\n\t\}\n", "")
    async with running_proxied_app(pbx_pair, tmp_path / "engine.db", caddyfile=caddyfile) as app:
        failures = await run_checks(app.cfg, app.caddy.ca_cert)
    assert failures == [say.websocket_failed("it answered HTTP 404 instead of a WebSocket")], (
        failures
    )
    assert failures[0].startswith("the proxy does not forward WebSocket upgrades for /ws: ")


async def test_a_closed_turn_port_gives_the_turn_sentence() -> None:
    async with running_turn(SECRET) as (host, port):
        pass  # coturn has come and gone: nothing listens on its port now
    cfg = with_turn(load_config(environ={}), turn_urls(host, port))
    failures = await run_checks(cfg, timeout=3)
    assert failures == [
        say.turn_failed(TurnTarget(turn_urls(host, port).split(",")[0], host, port, "udp")),
        say.turn_failed(TurnTarget(turn_urls(host, port).split(",")[1], host, port, "tcp")),
    ]
