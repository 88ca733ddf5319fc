"""One compose stack of docker/compose.yaml under test: a project name of its own, free
ports, its settings in an env file, and everything it made (containers, volumes) removed at
the end; the images and their cached layers are shared and kept.

Compose runs through podman-compose (PyPI, the test extras: Debian's 1.0.3 puts host-network
containers on a bridge network as well, which podman refuses).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.pbx.instance import pid_alive
from engine.pbx.ports import pick_port, pick_rtp_range
from testbed.containers.podman import DOCKER, ContainerError, podman, podman_env

SERVICES = ("app", "proxy", "turn")
TEST_PROJECT_PREFIX = "pbtest"
"""Test stacks are named pbtest<pid of the test process>: stacks of dead processes are removed."""
CADDY_ROOT_CA = "/var/lib/caddy/pki/authorities/local/root.crt"


@dataclass(frozen=True)
class StackPorts:
    https: int
    http: int
    web: int
    pbx_http: int
    pbx_sip: int
    turn: int
    turn_relay: tuple[int, int]
    pbx_rtp: tuple[int, int]

    @classmethod
    def free(cls) -> StackPorts:
        while True:  # ports picked one by one may repeat (each is random)
            https, http, web, pbx_http = (pick_port(socket.SOCK_STREAM) for _ in range(4))
            pbx_sip, turn = (pick_port(socket.SOCK_DGRAM) for _ in range(2))
            ports = {https, http, web, pbx_http, pbx_sip, turn}
            if len(ports) == 6:
                relay = pick_rtp_range(ports, size=40)
                rtp = pick_rtp_range(ports | set(range(relay[0], relay[1] + 1)), size=200)
                return cls(https, http, web, pbx_http, pbx_sip, turn, relay, rtp)


@dataclass(frozen=True)
class StackSettings:
    """What the stack's env file holds (docker/.env.example names every variable)."""

    ports: StackPorts
    trunk_host: str
    trunk_port: int
    turn_secret: str

    @property
    def site(self) -> str:
        return f"https://127.0.0.1:{self.ports.https}"

    def env(self) -> dict[str, str]:
        p = self.ports
        return {
            "PHONEBANK_SITE": self.site,
            "PHONEBANK_TLS": "internal",
            "PHONEBANK_WEB_PUBLIC_URL": self.site,
            "PHONEBANK_HTTP_PORT": str(p.http),
            "PHONEBANK_HTTPS_PORT": str(p.https),
            "PHONEBANK_WEB_PORT": str(p.web),
            "PHONEBANK_PBX_DIALER_HTTP_PORT": str(p.pbx_http),
            "PHONEBANK_PBX_DIALER_SIP_PORT": str(p.pbx_sip),
            "PHONEBANK_PBX_DIALER_RTP_PORTS": f"{p.pbx_rtp[0]}-{p.pbx_rtp[1]}",
            "PHONEBANK_TRUNK_HOST": self.trunk_host,
            "PHONEBANK_TRUNK_PORT": str(self.trunk_port),
            "PHONEBANK_TURN_SECRET": self.turn_secret,
            "PHONEBANK_TURN_URLS": f"turn:127.0.0.1:{p.turn}?transport=udp",
            "PHONEBANK_TURN_PORT": str(p.turn),
            "PHONEBANK_TURN_MIN_PORT": str(p.turn_relay[0]),
            "PHONEBANK_TURN_MAX_PORT": str(p.turn_relay[1]),
            "PHONEBANK_TURN_LISTEN_IP": "127.0.0.1",
            "PHONEBANK_TURN_ALLOW_LOOPBACK": "yes",
        }


class ComposeStack:
    """docker/compose.yaml run as project ``project`` with ``settings``."""

    def __init__(self, project: str, settings: StackSettings, work: Path) -> None:
        self.project = project
        self.settings = settings
        self.work = work
        self.env_file = work / "stack.env"
        work.mkdir(parents=True, exist_ok=True)
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in settings.env().items()))

    @property
    def url(self) -> str:
        return self.settings.site

    def compose(self, *args: str, timeout: float = 180) -> str:
        """Run ``podman-compose ARGS`` on this project; raises ContainerError on failure."""
        cmd = [sys.executable, "-m", "podman_compose", "--in-pod", "false", "-p", self.project]
        cmd += ["-f", str(DOCKER / "compose.yaml"), "--env-file", str(self.env_file), *args]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=podman_env(), timeout=timeout, check=False
        )
        if proc.returncode != 0:
            raise ContainerError(
                f"podman-compose {' '.join(args)} failed ({proc.returncode}):\n"
                f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
            )
        return proc.stdout

    def up(self) -> None:
        """Create and start the containers from the built images (never builds)."""
        self.compose("up", "-d", "--no-build")

    def down(self) -> None:
        """Stop and remove the containers; the volumes stay."""
        self.compose("down")

    def container(self, service: str) -> str:
        return f"{self.project}_{service}_1"

    def exec(self, service: str, *cmd: str, input: str | None = None) -> str:
        """Run ``cmd`` in the running ``service`` container; its output."""
        return podman("exec", "-i", self.container(service), *cmd, input=input)

    def inspect(self, service: str) -> dict[str, object]:
        """podman's view of the ``service`` container (State, RestartCount...)."""
        found: list[dict[str, object]] = json.loads(
            podman("inspect", "--type", "container", self.container(service))
        )
        return found[0]

    def main_pid(self, service: str) -> int:
        """Host PID of the ``service`` container's main process; 0 when it is not running."""
        state = self.inspect(service)["State"]
        assert isinstance(state, dict)
        return int(state["Pid"])

    def root_ca(self) -> str:
        """Caddy's internal CA root certificate (PEM), once Caddy has made it."""
        return self.exec("proxy", "cat", CADDY_ROOT_CA)

    def logs(self, service: str) -> str:
        with contextlib.suppress(ContainerError, subprocess.TimeoutExpired):
            return podman("logs", self.container(service), timeout=30)
        return ""

    def remove(self) -> None:
        """Remove every container and volume of this project, whatever state it is in;
        the images stay."""
        label = f"label=io.podman.compose.project={self.project}"
        with contextlib.suppress(ContainerError, subprocess.TimeoutExpired):
            ids = podman("ps", "-aq", "--filter", label).split()
            if ids:
                podman("rm", "-f", "-t", "2", *ids)
        with contextlib.suppress(ContainerError, subprocess.TimeoutExpired):
            volumes = podman("volume", "ls", "-q", "--filter", label).split()
            if volumes:
                podman("volume", "rm", "-f", *volumes)


def project_for(pid: int) -> str:
    return f"{TEST_PROJECT_PREFIX}{pid}"


def reap_test_stacks(work: Path) -> None:
    """Remove the containers and volumes of test stacks whose test process has died (killed
    before its clean-up ran): their restart policy would keep them running for ever."""
    projects = set(
        podman("ps", "-a", "--format", '{{index .Labels "io.podman.compose.project"}}').split()
    )
    projects |= set(
        podman("volume", "ls", "--format", '{{index .Labels "io.podman.compose.project"}}').split()
    )
    for project in projects:
        pid = project.removeprefix(TEST_PROJECT_PREFIX)
        if project.startswith(TEST_PROJECT_PREFIX) and pid.isdigit() and not pid_alive(int(pid)):
            dead = StackSettings(StackPorts(0, 0, 0, 0, 0, 0, (0, 0), (0, 0)), "", 0, "")
            ComposeStack(project, dead, work / project).remove()


@contextlib.contextmanager
def running_stack(
    project: str, work: Path, trunk_host: str, trunk_port: int, logs: Path | None = None
) -> Iterator[ComposeStack]:
    """The stack up, with free ports and a fresh TURN secret; its containers' logs copied to
    ``logs`` and everything removed at the end, also when the test fails. Test stacks left
    by dead test processes are removed first."""
    reap_test_stacks(work)
    settings = StackSettings(StackPorts.free(), trunk_host, trunk_port, secrets.token_hex(16))
    stack = ComposeStack(project, settings, work)
    try:
        stack.up()
        yield stack
    finally:
        if logs is not None:
            logs.mkdir(parents=True, exist_ok=True)
            for service in SERVICES:
                (logs / f"{service}.log").write_text(stack.logs(service))
        stack.remove()
