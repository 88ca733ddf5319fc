"""docker/turnserver.sh turns the TURN container's environment into coturn's flags."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "docker" / "turnserver.sh"


def _flags(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "turnserver"
    fake.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    fake.chmod(0o755)
    path = f"{tmp_path}:{os.environ['PATH']}"
    return subprocess.run(
        ["sh", str(SCRIPT)], env={"PATH": path, **env}, capture_output=True, text=True, timeout=10
    )


def test_secret_ports_and_denied_ranges_become_flags(tmp_path: Path) -> None:
    env = {
        "PHONEBANK_TURN_SECRET": "s3cret",
        "PHONEBANK_TURN_PORT": "3479",
        "PHONEBANK_TURN_DENIED_PEERS": "10.0.0.0-10.255.255.255,172.16.0.0-172.31.255.255",
    }
    flags = _flags(tmp_path, env).stdout.splitlines()
    assert "--use-auth-secret" in flags and "--static-auth-secret=s3cret" in flags
    assert "--listening-port=3479" in flags
    assert "--denied-peer-ip=10.0.0.0-10.255.255.255" in flags
    assert "--denied-peer-ip=172.16.0.0-172.31.255.255" in flags
    assert "--allow-loopback-peers" not in flags
    assert not any(f.startswith("--user") or f.startswith("--lt-cred-mech") for f in flags)


def test_no_secret_is_one_sentence_and_no_start(tmp_path: Path) -> None:
    result = _flags(tmp_path, {})
    assert result.returncode == 1 and result.stdout == ""
    assert "PHONEBANK_TURN_SECRET is empty" in result.stderr
