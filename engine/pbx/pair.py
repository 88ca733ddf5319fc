"""The PBX pair: the dialer PBX and the carrier simulator, joined by a SIP trunk.

``start_pair`` builds what is missing (rootfs, voices), picks free ports, generates ARI
credentials, renders both configurations and starts both instances. Each run lives in its own
directory (``<runs>/<tag>``) with an ``owner.json`` naming the process that owns it, so a later
run can stop Asterisk processes whose owner died without stopping them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import secrets
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from engine.config import PbxConfig, TrunkConfig
from engine.errors import PbxStartError
from engine.pbx import private
from engine.pbx.instance import AsteriskInstance, InstanceSpec, pid_alive, stop_pid
from engine.pbx.ports import pick_port, pick_rtp_range
from engine.pbx.rootfs import AsteriskRuntime, ensure_runtime
from testbed.voices import ensure_voices, load_manifest

log = logging.getLogger(__name__)

RECIPE = Path(__file__).resolve().parents[2] / "data" / "voices.toml"
ORPHAN_GRACE_S = 60.0
"""How long after its owner's last sign of life another run leaves an orphaned pair alone."""
DIALER_APP = "phonebank"
CARRIER_APP = "carrier"


@dataclass
class PbxPair:
    dialer: AsteriskInstance
    carrier: AsteriskInstance
    run_dir: Path
    """Host path of this run's directory (holds both instances and owner.json)."""
    voices_dir: PurePosixPath
    """Where the synthetic voices are, as Asterisk sees it (for sound: URIs and Playback)."""
    voices: dict[str, Any]
    """The voices manifest: counts, texts and durations."""
    config: dict[str, Any] = dataclasses.field(default_factory=dict)
    """What the pair was configured from (config_fingerprint), kept in owner.json so a later
    run re-attaches only to a pair configured as it would configure one."""

    @property
    def instances(self) -> tuple[AsteriskInstance, AsteriskInstance]:
        return self.dialer, self.carrier

    def stop(self) -> None:
        for instance in self.instances:
            instance.stop()
        (self.run_dir / "owner.json").unlink(missing_ok=True)

    def save_owner(self, owner_pid: int | None) -> None:
        """Record the instances' PIDs (after a restart) and the owning process in owner.json."""
        _write_owner(self, owner_pid)

    def renew_lease(self) -> None:
        """Touch owner.json: the owner is alive (see reap_orphans)."""
        with contextlib.suppress(FileNotFoundError):
            os.utime(self.run_dir / "owner.json")

    def voice(self, kind: str, index: int) -> str:
        """The media URI of one synthetic voice file, for ARI play."""
        return f"sound:{self.voices_dir}/{kind}-{index % self.voices['counts'][kind]}"


def runs_dir(cfg: PbxConfig, runtime: AsteriskRuntime) -> PurePosixPath:
    """Parent of the run directories, as Asterisk sees it."""
    return (
        PurePosixPath("/srv/phonebank/run")
        if runtime.chroot
        else PurePosixPath(cfg.state_dir / "run")
    )


def voices_parent(cfg: PbxConfig, runtime: AsteriskRuntime) -> PurePosixPath:
    return (
        PurePosixPath("/srv/phonebank/voices")
        if runtime.chroot
        else PurePosixPath(cfg.cache_dir / "voices")
    )


def prepare(cfg: PbxConfig) -> tuple[AsteriskRuntime, Path]:
    """Build or reuse the rootfs and the voices; return the runtime and the voices' host path."""
    runtime = ensure_runtime(cfg)
    voices = ensure_voices(RECIPE, runtime.host_path(voices_parent(cfg, runtime)))
    return runtime, voices


def start_pair(
    cfg: PbxConfig, tag: str, *, detached: bool = False, real_trunk: TrunkConfig | None = None
) -> PbxPair:
    """Start the dialer PBX and the carrier simulator for run ``tag``.

    ``detached``: the run outlives this process (``phonebank pbx start``); otherwise a later
    run stops it if this process dies without stopping it. ``real_trunk``: also give the
    dialer PBX an endpoint 'trunk' to a real carrier (when its host is set).
    Raises SetupError or PbxStartError.
    """
    real = real_trunk if real_trunk is not None and real_trunk.host else None
    runtime, voices_host = prepare(cfg)
    reap_orphans(cfg, runtime, tag)
    base = runs_dir(cfg, runtime) / tag
    run_dir = runtime.host_path(base)
    if (run_dir / "owner.json").exists():
        raise PbxStartError(
            f"a PBX pair named '{tag}' is already running (see {run_dir}/owner.json): "
            "stop it first with 'phonebank pbx stop'"
        )
    voices_dir = voices_parent(cfg, runtime) / voices_host.name
    manifest = load_manifest(voices_host)

    dialer_sip = pick_port(
        socket.SOCK_DGRAM, cfg.dialer_sip_port, "dialer PBX's SIP", "pbx.dialer_sip_port"
    )
    carrier_sip = pick_port(
        socket.SOCK_DGRAM, cfg.carrier_sip_port, "carrier simulator's SIP", "pbx.carrier_sip_port"
    )
    dialer_http = pick_port(
        socket.SOCK_STREAM, cfg.dialer_http_port, "dialer PBX's ARI", "pbx.dialer_http_port"
    )
    carrier_http = pick_port(
        socket.SOCK_STREAM,
        cfg.carrier_http_port,
        "carrier simulator's ARI",
        "pbx.carrier_http_port",
    )
    if len({dialer_sip, carrier_sip, dialer_http, carrier_http}) < 4:
        raise PbxStartError("two PBX ports are configured to the same number: make them differ")
    used = {dialer_sip, carrier_sip, dialer_http, carrier_http}
    dialer_rtp = pick_rtp_range(used)
    carrier_rtp = pick_rtp_range(used | set(range(dialer_rtp[0], dialer_rtp[1] + 1)))

    for sub in ("dialer", "carrier"):
        shutil.rmtree(run_dir / sub, ignore_errors=True)
    private.run_dir(run_dir, runtime.gid)

    dialer = AsteriskInstance(
        InstanceSpec(
            name="dialer",
            role="dialer",
            base=str(base / "dialer"),
            sip_port=dialer_sip,
            http_port=dialer_http,
            rtp_start=dialer_rtp[0],
            rtp_end=dialer_rtp[1],
            ari_user="phonebank",
            ari_password=secrets.token_urlsafe(18),
            ari_app=DIALER_APP,
            extra={
                "trunk": {
                    "name": "carrier",
                    "context": "from-carrier",
                    "host": "127.0.0.1",
                    "port": carrier_sip,
                },
                "callin_number": cfg.callin_number,
                "amd_args": cfg.amd_args,
                "sip_bind": real.bind if real else "127.0.0.1",
                "real_trunk": dataclasses.asdict(real) if real else None,
            },
        ),
        runtime,
    )
    carrier = AsteriskInstance(
        InstanceSpec(
            name="carrier",
            role="carrier",
            base=str(base / "carrier"),
            sip_port=carrier_sip,
            http_port=carrier_http,
            rtp_start=carrier_rtp[0],
            rtp_end=carrier_rtp[1],
            ari_user="carrier",
            ari_password=secrets.token_urlsafe(18),
            ari_app=CARRIER_APP,
            extra={
                "trunk": {
                    "name": "dialer",
                    "context": "from-dialer",
                    "host": "127.0.0.1",
                    "port": dialer_sip,
                },
                "voices_dir": str(voices_dir),
                "sip_bind": "127.0.0.1",
                "real_trunk": None,
                "recordings_dir": str(base / "carrier" / "recordings"),
                "voices": manifest["counts"],
            },
        ),
        runtime,
    )
    pair = PbxPair(dialer, carrier, run_dir, voices_dir, manifest, config_fingerprint(cfg, real))
    try:
        for instance in pair.instances:
            instance.render()
            instance.start(cfg.start_timeout)
            _write_owner(pair, None if detached else os.getpid())
    except BaseException:
        pair.stop()
        if not detached:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    return pair


def _write_owner(pair: PbxPair, owner_pid: int | None) -> None:
    owner = {
        "owner_pid": owner_pid,
        "instances": {
            i.spec.name: {"pid": i.pid, "spec": i.spec.to_json()}
            for i in pair.instances
            if i.pid is not None
        },
        "voices_dir": str(pair.voices_dir),
        "config": pair.config,
    }
    private.write_private(pair.run_dir / "owner.json", json.dumps(owner, indent=1))


def load_pair(cfg: PbxConfig, runtime: AsteriskRuntime, tag: str) -> PbxPair | None:
    """The pair of run ``tag`` as recorded in its owner.json, or None when none is recorded."""
    run_dir = runtime.host_path(runs_dir(cfg, runtime) / tag)
    try:
        owner = json.loads((run_dir / "owner.json").read_text())
    except FileNotFoundError:
        return None
    instances = {}
    for name, info in owner["instances"].items():
        instance = AsteriskInstance(InstanceSpec(**info["spec"]), runtime)
        instance.pid = info["pid"] if pid_alive(info["pid"]) else None
        instances[name] = instance
    voices_dir = PurePosixPath(owner["voices_dir"])
    manifest = load_manifest(runtime.host_path(voices_dir))
    return PbxPair(
        instances["dialer"],
        instances["carrier"],
        run_dir,
        voices_dir,
        manifest,
        owner.get("config", {}),
    )


def config_fingerprint(cfg: PbxConfig, real_trunk: TrunkConfig | None) -> dict[str, Any]:
    """The settings a pair's configuration is rendered from, as JSON values."""
    values = {k: v for k, v in dataclasses.asdict(cfg).items() if k != "start_timeout"}
    values["real_trunk"] = dataclasses.asdict(real_trunk) if real_trunk else None
    fingerprint: dict[str, Any] = json.loads(json.dumps(values, default=str))
    return fingerprint


def reap_orphans(cfg: PbxConfig, runtime: AsteriskRuntime, tag: str = "") -> None:
    """Stop Asterisk processes of runs whose owning process has died, and remove those runs.

    Another run's pair is left alone while its owner's lease is fresh (owner.json touched
    within ORPHAN_GRACE_S: a supervised `phonebank run` renews it), so a crashed run restarted
    at once can re-attach to it (engine/pbx/adopt.py); run ``tag``'s own is always reaped."""
    parent = runtime.host_path(runs_dir(cfg, runtime))
    if not parent.is_dir():
        return
    for owner_file in parent.glob("*/owner.json"):
        with contextlib.suppress(ValueError, OSError, KeyError):
            owner = json.loads(owner_file.read_text())
            if owner["owner_pid"] is None or pid_alive(owner["owner_pid"]):
                continue
            leased = time.time() - owner_file.stat().st_mtime < ORPHAN_GRACE_S
            if leased and owner_file.parent.name != tag:
                continue
            for name, info in owner["instances"].items():
                if is_our_asterisk(info["pid"], info["spec"]["base"]):
                    log.warning(
                        "stopping %s PBX pid %d left behind by a dead run (%s)",
                        name,
                        info["pid"],
                        owner_file.parent.name,
                    )
                    stop_pid(info["pid"], 5.0)
            shutil.rmtree(owner_file.parent, ignore_errors=True)


def is_our_asterisk(pid: int, base: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return "asterisk" in cmdline and base in cmdline


@contextlib.contextmanager
def running_pair(
    cfg: PbxConfig, tag: str, real_trunk: TrunkConfig | None = None
) -> Iterator[PbxPair]:
    """A throwaway pair (benches, tests): stopped and its run directory removed on exit."""
    pair = start_pair(cfg, tag, real_trunk=real_trunk)
    try:
        yield pair
    finally:
        pair.stop()
        shutil.rmtree(pair.run_dir, ignore_errors=True)
