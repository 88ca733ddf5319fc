"""What the command line tells a new operator: where the operator pages are, and how to add
the first operator account (`phonebank run`, `make run`, `phonebank operator add`)."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

from engine.config import WebConfig

ANY_ADDRESS = ("", "0.0.0.0", "::")


def site_url(web: WebConfig, listening: str | None = None) -> str:
    """The address people open: web.public_url when set, else ``listening`` (the running
    server's URL), else the configured host and port (an any-address bind as localhost)."""
    if web.public_url:
        return web.public_url.rstrip("/")
    if listening:
        return listening.rstrip("/")
    host = "localhost" if web.host in ANY_ADDRESS else web.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{web.port}"


def phonebank_command() -> str:
    """How to run `phonebank` from here: its name when it is on PATH, else the path of the one
    installed beside this Python (e.g. .venv/bin/phonebank)."""
    beside = Path(sys.executable).parent / "phonebank"
    found = shutil.which("phonebank")
    if found and Path(found).resolve() == beside.resolve():
        return "phonebank"
    if beside.exists():
        try:
            return str(beside.relative_to(Path.cwd()))
        except ValueError:
            return str(beside)
    return "phonebank"


def add_operator_command(config: Path | None, program: str = "phonebank") -> str:
    """The exact command that adds an operator, naming ``config`` when one was given."""
    words = [program]
    if config is not None:
        words += ["--config", str(config)]
    return shlex.join(words) + " operator add NAME"


def running_lines(url: str, operators: int, config: Path | None, program: str) -> list[str]:
    """What `phonebank run` prints once it is serving at ``url``."""
    lines = [f"operator pages at {url}/operator (volunteers start at {url}/)"]
    if operators == 0:
        lines.append(
            "no operator account yet: add one in another terminal with "
            f"`{add_operator_command(config, program)}`, then log in at {url}/operator/login"
        )
    return lines
