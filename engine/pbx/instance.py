"""One Asterisk instance: render its configuration, start it, check its health, stop it by PID."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2

from engine.errors import PbxStartError
from engine.pbx.ports import port_free
from engine.pbx.private import private_dir, write_private
from engine.pbx.rootfs import AsteriskRuntime

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parents[2] / "asterisk_conf"
DIRS = ("etc", "run", "lib", "spool", "spool/recording", "log", "cache", "recordings")
BASE_MODULES = (
    "res_timing_timerfd.so",
    "res_sorcery_config.so",
    "res_sorcery_memory.so",
    "res_sorcery_astdb.so",
    "res_pjproject.so",
    "res_pjsip.so",
    "res_pjsip_session.so",
    "res_pjsip_pubsub.so",
    "chan_pjsip.so",
    "res_pjsip_sdp_rtp.so",
    "res_pjsip_endpoint_identifier_ip.so",
    "res_pjsip_endpoint_identifier_user.so",
    "res_pjsip_caller_id.so",
    "res_pjsip_rfc3326.so",
    "res_pjsip_dtmf_info.so",
    "res_pjsip_nat.so",
    "res_pjsip_authenticator_digest.so",
    "res_pjsip_outbound_authenticator_digest.so",
    "res_pjsip_outbound_registration.so",
    "res_rtp_asterisk.so",
    "res_http_websocket.so",
    "res_websocket_client.so",
    "res_stasis.so",
    "res_stasis_answer.so",
    "res_stasis_playback.so",
    "res_stasis_recording.so",
    "res_stasis_snoop.so",
    "res_stasis_device_state.so",
    "res_ari.so",
    "res_ari_model.so",
    "res_ari_applications.so",
    "res_ari_asterisk.so",
    "res_ari_bridges.so",
    "res_ari_channels.so",
    "res_ari_endpoints.so",
    "res_ari_events.so",
    "res_ari_playbacks.so",
    "res_ari_recordings.so",
    "res_ari_sounds.so",
    "res_ari_device_states.so",
    "app_stasis.so",
    "bridge_simple.so",
    "bridge_softmix.so",
    "bridge_native_rtp.so",
    "bridge_holding.so",
    "codec_ulaw.so",
    "codec_alaw.so",
    "codec_gsm.so",
    "format_gsm.so",
    "format_wav.so",
    "format_pcm.so",
    "format_sln.so",
    "pbx_config.so",
    "app_playback.so",
    "app_stack.so",
    "app_senddtmf.so",
    "app_verbose.so",
    "func_channel.so",
    "func_callerid.so",
    "func_strings.so",
    "func_logic.so",
    "func_dialplan.so",
    "func_global.so",
    "res_musiconhold.so",
)
ROLE_MODULES = {
    "dialer": (
        "app_amd.so",
        "app_waitforsilence.so",
        "chan_bridge_media.so",
        # Streaming AMD (engine/calls/listening.py): the voter's audio as RTP to the engine.
        "res_rtp_multicast.so",  # chan_rtp needs its symbols
        "chan_rtp.so",
        # The browser softphone: SIP over WebSocket, DTLS-SRTP, opus.
        "res_pjsip_transport_websocket.so",
        "res_srtp.so",
        "res_format_attr_opus.so",
        "codec_opus_open_source.so",
    ),
    "carrier": (
        "app_mixmonitor.so",
        "func_periodic_hook.so",
        "app_chanspy.so",
        "func_cut.so",
        "func_groupcount.so",
        "func_uri.so",
        "app_record.so",
    ),
}


@dataclass(frozen=True)
class InstanceSpec:
    """Everything that differs between two instances; saved as JSON so `pbx stop` can find it."""

    name: str
    role: str
    """Template set under asterisk_conf/: 'dialer' or 'carrier'."""
    base: str
    """Directory as Asterisk sees it, holding etc/, run/, log/... of this instance."""
    sip_port: int
    http_port: int
    rtp_start: int
    rtp_end: int
    ari_user: str
    ari_password: str
    ari_app: str
    extra: dict[str, Any] = field(default_factory=dict)
    """Role-specific template values (trunk, call-in number, voices...)."""
    http_bind: str = "127.0.0.1"
    """The address Asterisk's HTTP server listens on (pbx.dialer_http_bind)."""

    @property
    def http_host(self) -> str:
        """Where this machine reaches that server: loopback when it listens everywhere."""
        return "127.0.0.1" if self.http_bind in ("0.0.0.0", "") else self.http_bind

    @property
    def ari_url(self) -> str:
        return f"http://{self.http_host}:{self.http_port}"

    def dir(self, name: str) -> PurePosixPath:
        return PurePosixPath(self.base) / name

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class AsteriskInstance:
    """A running (or startable) Asterisk; stop() is safe to call more than once."""

    def __init__(self, spec: InstanceSpec, runtime: AsteriskRuntime) -> None:
        self.spec = spec
        self.runtime = runtime
        self.pid: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def path(self, name: str) -> Path:
        """Host path of one of the instance's directories (etc, log, recordings...)."""
        return self.runtime.host_path(self.spec.dir(name))

    @property
    def conf(self) -> PurePosixPath:
        return self.spec.dir("etc") / "asterisk.conf"

    def render(self) -> None:
        """Write this instance's configuration from the jinja2 templates."""
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([TEMPLATES / self.spec.role, TEMPLATES / "common"]),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        uid, gid = self.runtime.uid, self.runtime.gid
        private_dir(self.path(""), uid, gid)
        for name in DIRS:
            private_dir(self.path(name), uid, gid)
        context = {
            **self.spec.extra,
            **{k: v for k, v in self.spec.to_json().items() if k != "extra"},
            "banner": f"Written by phonebank for the '{self.spec.name}' instance; do not edit.",
            "dirs": {name: str(self.spec.dir(name)) for name in DIRS if "/" not in name},
            "moddir": self._module_dir(),
            "datadir": "/usr/share/asterisk",
            "verbose": 3,
            "modules": BASE_MODULES + ROLE_MODULES[self.spec.role],
        }
        names = {n.removesuffix(".j2") for n in env.list_templates() if n.endswith(".conf.j2")}
        for name in sorted(names):
            text = env.get_template(name + ".j2").render(context)
            write_private(self.path("etc") / name, text, uid, gid)
        write_private(self.path("etc") / "instance.json", json.dumps(self.spec.to_json()))

    def _module_dir(self) -> str:
        for candidate in (
            "/usr/lib/x86_64-linux-gnu/asterisk/modules",
            "/usr/lib/aarch64-linux-gnu/asterisk/modules",
            "/usr/lib/asterisk/modules",
            "/usr/lib64/asterisk/modules",
        ):
            if self.runtime.host_path(PurePosixPath(candidate)).is_dir():
                return candidate
        raise PbxStartError(f"no Asterisk module directory found under {self.runtime.root}")

    def start(self, timeout: float = 30.0) -> None:
        """Start Asterisk in the foreground (as a child) and wait until ARI answers.

        Raises PbxStartError (with the last log lines) when a port is taken, the process exits,
        or ARI does not answer within ``timeout`` seconds.
        """
        self._check_ports()
        out = self.path("log") / "asterisk.out"
        cmd = self.runtime.command("-U", "asterisk", "-G", "asterisk", "-f", "-C", str(self.conf))
        with out.open("ab") as stdout:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = self._proc.pid
        (self.path("etc") / "asterisk.pid").write_text(str(self.pid))
        log.info(
            "%s: started Asterisk, pid %d, ARI on port %d",
            self.spec.name,
            self.pid,
            self.spec.http_port,
        )
        try:
            self._wait_healthy(timeout)
        except PbxStartError:
            self.stop()
            raise

    def running(self) -> bool:
        """True while the process lives (a child of ours is reaped when it has died)."""
        if self.pid is None:
            return False
        if self._proc is not None:
            return self._proc.poll() is None
        return pid_alive(self.pid)

    def restart(self, timeout: float = 30.0) -> None:
        """Start the instance again after it died: the same configuration, ports and ARI
        credentials, so clients reconnect. Raises PbxStartError."""
        self.stop(timeout=2.0)
        self.start(timeout)

    def _check_ports(self) -> None:
        taken = []
        if not port_free(self.spec.http_port, socket.SOCK_STREAM, self.spec.http_host):
            taken.append(f"{self.spec.http_port}/tcp (ARI)")
        if not port_free(self.spec.sip_port, socket.SOCK_DGRAM):
            taken.append(f"{self.spec.sip_port}/udp (SIP)")
        if taken:
            raise PbxStartError(
                f"cannot start the {self.spec.name} PBX: port {' and '.join(taken)} is already "
                "in use by another program; stop it (`ss -lntup` shows which) or choose "
                "another port (0 picks a free one)"
            )

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise PbxStartError(
                    f"the {self.spec.name} PBX exited at start (code {self._proc.returncode}); "
                    f"its last log lines:\n{self.log_tail()}"
                )
            if self.healthy():
                return
            if time.monotonic() > deadline:
                raise PbxStartError(
                    f"the {self.spec.name} PBX did not answer ARI on port {self.spec.http_port} "
                    f"within {timeout:.0f} s; its last log lines:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def healthy(self, timeout: float = 2.0) -> bool:
        """True when ARI's /asterisk/info answers 200 with our credentials within
        ``timeout`` seconds."""
        request = urllib.request.Request(f"{self.spec.ari_url}/ari/asterisk/info")
        token = base64.b64encode(f"{self.spec.ari_user}:{self.spec.ari_password}".encode())
        request.add_header("Authorization", "Basic " + token.decode())
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, lines: int = 15) -> str:
        chunks = []
        for name in ("messages.log", "asterisk.out"):
            path = self.path("log") / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                chunks.append(f"--- {path}\n" + "\n".join(tail))
        return "\n".join(chunks) or "(no log written)"

    def cli(self, command: str, timeout: float = 10.0) -> str:
        """Run an Asterisk CLI command on this instance (asterisk -rx)."""
        cmd = self.runtime.command("-C", str(self.conf), "-rx", command)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        return proc.stdout

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the instance by PID: SIGTERM, then SIGKILL after ``timeout`` seconds."""
        if self.pid is None:
            return
        stop_pid(self.pid, timeout, self._proc)
        log.info("%s: stopped Asterisk, pid %d", self.spec.name, self.pid)
        self.pid = None
        self._proc = None
        (self.path("etc") / "asterisk.pid").unlink(missing_ok=True)


def stop_pid(pid: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Terminate ``pid`` (and its session) and wait for it to go; kill it if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc is not None:
                if proc.poll() is not None:
                    return
            elif not pid_alive(pid):
                return
            time.sleep(0.05)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][:1] != "Z"
    except FileNotFoundError:
        return False


def process_started(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks after boot, /proc/PID/stat field 22), or None
    when it does not exist. A PID with another start time is another process: PIDs are reused,
    and in a container every new `phonebank run` is PID 1 again."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(") ", 1)[-1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def owner_alive(pid: int, started: int | None) -> bool:
    """Whether the process recorded as (``pid``, ``started``) is still running: the PID is alive
    and, when its start time was recorded, it is the same process."""
    return pid_alive(pid) and (started is None or process_started(pid) == started)
