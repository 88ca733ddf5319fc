"""The `phonebank` command's errors: one sentence naming the cause and the fix, exit 1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

PHONEBANK = [sys.executable, "-m", "phonebank.cli"]


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PHONEBANK, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_with_the_web_port_taken_names_the_port_and_the_setting() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("run", PHONEBANK_WEB_PORT=str(port))
    assert result.returncode == 1
    assert f"port {port}/tcp for the web app is already in use" in result.stderr
    assert "PHONEBANK_WEB_PORT" in result.stderr


def test_run_without_a_trunk_says_how_to_get_a_phone_network() -> None:
    """Production starts no carrier simulator: with no [trunk] host there is no phone network,
    and `phonebank run` says so (and how to use the simulator) before starting anything."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHONEBANK_TRUNK_")}
    result = subprocess.run(
        [*PHONEBANK, "run"],
        env={**env, "PHONEBANK_WEB_PORT": "0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "trunk.host is not set" in result.stderr
    assert "PHONEBANK_TRUNK_HOST" in result.stderr
    assert "python -m testbed run" in result.stderr


def test_the_test_bed_run_with_the_web_port_taken_names_the_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "testbed", "run"],
            env={**os.environ, "PHONEBANK_WEB_PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert f"port {port}/tcp for the web app is already in use" in result.stderr


def test_a_bad_config_value_names_the_variable() -> None:
    result = run("pbx", "status", PHONEBANK_PBX_DIALER_SIP_PORT="five")
    assert result.returncode == 1
    assert "PHONEBANK_PBX_DIALER_SIP_PORT has a bad value 'five'" in result.stderr


def test_import_into_a_missing_campaign_lists_the_campaigns(tmp_path: Path) -> None:
    csv = tmp_path / "voters.csv"
    csv.write_text("phone\n(212) 555-0123\n")
    result = run(
        "import",
        str(csv),
        "--campaign",
        "Nope",
        PHONEBANK_ENGINE_DATABASE=str(tmp_path / "db.sqlite"),
    )
    assert result.returncode == 1
    assert "there is no campaign called 'Nope'" in result.stderr
    assert "--create" in result.stderr


def test_import_with_create_prints_the_summary(tmp_path: Path) -> None:
    csv = tmp_path / "voters.csv"
    csv.write_text("first,phone\nAna,(212) 555-0123\nBo,555-12\n")
    result = run(
        "import",
        str(csv),
        "--campaign",
        "Spring",
        "--create",
        PHONEBANK_ENGINE_DATABASE=str(tmp_path / "db.sqlite"),
    )
    assert result.returncode == 0, result.stderr
    assert "1 imported" in result.stdout and "1 invalid" in result.stdout
    assert "line 3:" in result.stdout


def test_operator_add_reads_the_password_from_stdin(tmp_path: Path) -> None:
    result = subprocess.run(
        [*PHONEBANK, "operator", "add", "olga", "--password-stdin"],
        input="a long password\n",
        env={**os.environ, "PHONEBANK_ENGINE_DATABASE": str(tmp_path / "db.sqlite")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "operator 'olga' added" in result.stdout


def test_operator_add_points_to_the_login_page_on_the_configured_address(tmp_path: Path) -> None:
    result = subprocess.run(
        [*PHONEBANK, "operator", "add", "olga", "--password-stdin"],
        input="a long password\n",
        env={
            **os.environ,
            "PHONEBANK_ENGINE_DATABASE": str(tmp_path / "db.sqlite"),
            "PHONEBANK_WEB_HOST": "0.0.0.0",
            "PHONEBANK_WEB_PORT": "8091",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "log in at http://localhost:8091/operator/login" in result.stdout
    assert "/api/" not in result.stdout
