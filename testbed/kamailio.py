"""Kamailio in front of the dialer nodes (issue 16): one SIP address for the carrier, call-ins
spread over the healthy nodes by the dispatcher module (call-load distribution, OPTIONS probes).

    front = KamailioFront.prepare()             # picks a free UDP port on 127.0.0.1
    ...                                         # start the nodes, linked to front.port
    front.start({"node1": 5071, "node2": 5072}) # the nodes' SIP ports, by name (the 'duid')
    front.destinations()                        # {"node1": "active", "node2": "inactive"}
    front.stop()

Debian's `kamailio` runs in the foreground (`-DD -E`) from a configuration rendered into a
temporary directory (docker/kamailio.cfg.j2, also the production front's template), as the
package's `kamailio` user when we are root, and is stopped by its PID. The dispatcher's state
is read through JSON-RPC over a Unix datagram socket in that directory (no kamcmd).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from engine.errors import SetupError
from engine.pbx.dialer import PeerLink
from engine.pbx.instance import owner_alive, process_started, stop_pid
from engine.pbx.ports import pick_port, port_free
from phonebank.kamailio import (
    NODE_SET,
    FrontSettings,
    callin_networks,
    dispatcher_list,
    render_config,
)

log = logging.getLogger(__name__)

KAMAILIO = "/usr/sbin/kamailio"
MODULE_DIRS = (
    "/usr/lib/x86_64-linux-gnu/kamailio/modules",
    "/usr/lib/aarch64-linux-gnu/kamailio/modules",
    "/usr/lib/kamailio/modules",
)
SERVER_USER = "kamailio"
"""The system user Debian's package creates, used when the tests run as root."""
PREFIX = "phonebank-kamailio-"
STATES = {"A": "active", "I": "inactive", "T": "trying", "D": "disabled"}


class KamailioFront:
    """One Kamailio process; ``stop()`` is safe to call more than once."""

    def __init__(
        self, root: Path, port: int, probe_interval: int = 2, reply_timeout: float = 1.5
    ) -> None:
        self.root = root
        self.port = port
        self.probe_interval = probe_interval
        """Seconds between two OPTIONS probes of every node."""
        self.reply_timeout = reply_timeout
        """Seconds without any reply after which a probe or a call-in fails (408)."""
        self.pid: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._nodes: dict[str, str] = {}

    @classmethod
    def prepare(cls, probe_interval: int = 2, reply_timeout: float = 1.5) -> KamailioFront:
        """A front on a free UDP port of 127.0.0.1 in a new temporary directory (not started:
        the nodes need its address first). Raises SetupError if Kamailio is not installed."""
        if not Path(KAMAILIO).exists():
            raise SetupError("Kamailio is not installed: run `make deps` (Debian's kamailio).")
        reap_orphans()
        port = pick_port(socket.SOCK_DGRAM, what="Kamailio front")
        root = Path(tempfile.mkdtemp(prefix=PREFIX))
        return cls(root, port, probe_interval, reply_timeout)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def link(self) -> PeerLink:
        """How a dialer node behind this front reaches its phone network: the front is its
        endpoint 'carrier', matched by address and port, whose calls arrive in 'from-carrier'."""
        return PeerLink(name="carrier", context="from-carrier", port=self.port)

    @property
    def detection_bound(self) -> float:
        """The longest a dead node can stay in the rotation: a probe interval, plus the probe's
        reply timeout."""
        return self.probe_interval + self.reply_timeout

    def render(
        self, nodes: dict[str, int], carrier_port: int | None = None, callin_from: str = ""
    ) -> Path:
        """Write kamailio.cfg and dispatcher.list for ``nodes`` (name: SIP port on 127.0.0.1);
        calls the nodes place go to the carrier at ``carrier_port`` on 127.0.0.1 (None: no
        carrier, they are refused); call-ins only from ``callin_from`` (networks; "": any)."""
        self._nodes = {name: f"sip:127.0.0.1:{port}" for name, port in nodes.items()}
        settings = FrontSettings(
            listen=self.address,
            ping_from=self.address,
            list_file=str(self.root / "dispatcher.list"),
            rpc_socket=str(self.root / "rpc.sock"),
            carrier=f"127.0.0.1:{carrier_port}" if carrier_port else "",
            banner="Written by phonebank's test bed (testbed/kamailio.py); do not edit.",
            probe_interval=self.probe_interval,
            reply_timeout_ms=int(self.reply_timeout * 1000),
            module_dir=module_dir(),
            callin_from=callin_networks(callin_from),
        )
        (self.root / "kamailio.cfg").write_text(render_config(settings))
        listing = dispatcher_list({name: f"127.0.0.1:{port}" for name, port in nodes.items()})
        (self.root / "dispatcher.list").write_text(listing)
        return self.root / "kamailio.cfg"

    def start(
        self,
        nodes: dict[str, int],
        timeout: float = 15.0,
        carrier_port: int | None = None,
        callin_from: str = "",
    ) -> None:
        """Render the configuration and run Kamailio until its RPC answers (``carrier_port``,
        ``callin_from``: see render).
        Raises SetupError with Kamailio's output when it exits or does not answer in time."""
        cfg = self.render(nodes, carrier_port, callin_from)
        command = [KAMAILIO, "-DD", "-E", "-f", str(cfg), "-m", "32", "-M", "4"]
        command += ["-Y", str(self.root)]
        user = server_user()
        if user is not None:
            entry = pwd.getpwnam(user)
            for path in (self.root, *self.root.iterdir()):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            command += ["-u", user, "-g", user]
        with (self.root / "kamailio.out").open("ab") as out:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.root,
            )
        self.pid = self._proc.pid
        owner = {"owner_pid": os.getpid(), "owner_started": process_started(os.getpid())}
        (self.root / "owner.json").write_text(json.dumps({**owner, "pid": self.pid}))
        log.info("Kamailio front started, pid %d, SIP on %s", self.pid, self.address)
        try:
            self._wait_ready(timeout)
        except SetupError:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise SetupError(
                    f"Kamailio exited at start (code {self._proc.returncode}):\n{self.output()}"
                )
            if not port_free(self.port, socket.SOCK_DGRAM):
                with contextlib.suppress(OSError, TimeoutError):
                    self.rpc("core.version", timeout=0.5)
                    return
            if time.monotonic() > deadline:
                raise SetupError(
                    f"Kamailio did not answer within {timeout:.0f} s:\n{self.output()}"
                )
            time.sleep(0.1)

    def output(self, lines: int = 30) -> str:
        """The last lines Kamailio wrote (its log goes to stderr)."""
        path = self.root / "kamailio.out"
        text = path.read_text(errors="replace") if path.exists() else "(no output)"
        return "\n".join(text.splitlines()[-lines:])

    def rpc(self, method: str, *params: Any, timeout: float = 2.0) -> Any:
        """Call one of Kamailio's RPC commands; return its result.
        Raises OSError or TimeoutError when Kamailio does not answer, RuntimeError on an error."""
        request = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1}
        reply_path = self.root / f"rpc-{uuid.uuid4().hex[:8]}.sock"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(str(reply_path))
            try:
                os.chmod(reply_path, 0o666)  # Kamailio (another user) sends the reply here
                sock.settimeout(timeout)
                sock.sendto(json.dumps(request).encode(), str(self.root / "rpc.sock"))
                reply = json.loads(sock.recv(65536))
            finally:
                reply_path.unlink(missing_ok=True)
        if "error" in reply:
            raise RuntimeError(f"Kamailio RPC {method}: {reply['error']}")
        return reply.get("result")

    def destinations(self) -> dict[str, str]:
        """Each node's state in the dispatcher: 'active', 'inactive', 'trying' or 'disabled'
        (by name, the duid)."""
        by_uri = {uri: name for name, uri in self._nodes.items()}
        states: dict[str, str] = {}
        for record in self.rpc("dispatcher.list")["RECORDS"]:
            for target in record["SET"]["TARGETS"]:
                dest = target["DEST"]
                states[by_uri.get(dest["URI"], dest["URI"])] = STATES[dest["FLAGS"][0]]
        return states

    def mark(self, name: str, state: str) -> None:
        """Set node ``name``'s state by hand ('active' or 'inactive'; probing continues)."""
        self.rpc("dispatcher.set_state", state[0] + "p", NODE_SET, self._nodes[name])

    def probe(self, on: bool) -> None:
        """Stop or resume the OPTIONS probes of every node."""
        self.rpc("dispatcher.ping_active", int(on))

    def stop(self) -> None:
        """Stop Kamailio by its PID (SIGTERM, then SIGKILL) and remove its directory."""
        if self.pid is not None:
            stop_pid(self.pid, 5.0, self._proc)
            log.info("Kamailio front stopped, pid %d", self.pid)
            self.pid = None
            self._proc = None
        shutil.rmtree(self.root, ignore_errors=True)


def reap_orphans() -> None:
    """Stop the Kamailio fronts of test sessions that died without stopping them (their
    owner.json names a dead owner), and remove their directories."""
    for owner_file in Path(tempfile.gettempdir()).glob(f"{PREFIX}*/owner.json"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            owner = json.loads(owner_file.read_text())
            if owner_alive(owner["owner_pid"], owner["owner_started"]):
                continue
            if str(owner_file.parent) in _cmdline(owner["pid"]):
                log.warning("stopping Kamailio pid %d left behind by a dead test", owner["pid"])
                stop_pid(owner["pid"], 5.0)
            shutil.rmtree(owner_file.parent, ignore_errors=True)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def module_dir() -> str:
    for candidate in MODULE_DIRS:
        if (Path(candidate) / "dispatcher.so").exists():
            return candidate
    raise SetupError("Kamailio's dispatcher module is missing: run `make deps` (kamailio).")


def server_user() -> str | None:
    """The user to run Kamailio as: None (ourselves) unless we are root."""
    return SERVER_USER if os.geteuid() == 0 else None
