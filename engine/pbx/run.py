"""A PBX run: the Asterisk instances one `phonebank run` (or `pbx start`) owns, in one directory.

Each run lives in its own directory (``<runs>/<tag>``) with an ``owner.json`` naming the
process that owns it and every instance's PID and settings, so `phonebank pbx stop|status|cli`
and a later run find them, and a later run can stop Asterisk processes whose owner died
without stopping them. Production runs hold the dialer PBX alone (engine/pbx/dialer.py); the
test bed's runs add its carrier simulator (testbed/pair.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from engine.config import PbxConfig, TrunkConfig
from engine.errors import PbxStartError
from engine.pbx import private
from engine.pbx.instance import (
    AsteriskInstance,
    InstanceSpec,
    owner_alive,
    pid_alive,
    process_started,
    stop_pid,
)
from engine.pbx.rootfs import AsteriskRuntime

log = logging.getLogger(__name__)

ORPHAN_GRACE_S = 60.0
"""How long after its owner's last sign of life another run leaves an orphaned run alone."""


@dataclass
class PbxRun:
    """The instances of one run, in start order (the dialer PBX first)."""

    instances: tuple[AsteriskInstance, ...]
    run_dir: Path
    """Host path of this run's directory (holds the instances and owner.json)."""
    config: dict[str, Any]
    """What the run was configured from (config_fingerprint), kept in owner.json so a later
    run re-attaches only to a run configured as it would configure one."""
    notes: dict[str, Any]
    """More values recorded in owner.json by whoever started the run (the test bed's voices)."""

    def instance(self, name: str) -> AsteriskInstance:
        """The instance called ``name``; raises KeyError when the run has none."""
        for instance in self.instances:
            if instance.spec.name == name:
                return instance
        raise KeyError(f"this PBX run has no '{name}' instance")

    @property
    def dialer(self) -> AsteriskInstance:
        return self.instance("dialer")

    def stop(self) -> None:
        for instance in self.instances:
            instance.stop()
        (self.run_dir / "owner.json").unlink(missing_ok=True)

    def save_owner(self, owner_pid: int | None) -> None:
        """Record the instances' PIDs (after a restart) and the owning process in owner.json."""
        owner = {
            "owner_pid": owner_pid,
            "owner_started": None if owner_pid is None else process_started(owner_pid),
            "instances": {
                i.spec.name: {"pid": i.pid, "spec": i.spec.to_json()}
                for i in self.instances
                if i.pid is not None
            },
            **self.notes,
            "config": self.config,
        }
        private.write_private(self.run_dir / "owner.json", json.dumps(owner, indent=1))

    def renew_lease(self) -> None:
        """Touch owner.json: the owner is alive (see reap_orphans)."""
        with contextlib.suppress(FileNotFoundError):
            os.utime(self.run_dir / "owner.json")


def runs_dir(cfg: PbxConfig, runtime: AsteriskRuntime) -> PurePosixPath:
    """Parent of the run directories, as Asterisk sees it."""
    return (
        PurePosixPath("/srv/phonebank/run")
        if runtime.chroot
        else PurePosixPath(cfg.state_dir / "run")
    )


def open_run_dir(
    cfg: PbxConfig, runtime: AsteriskRuntime, tag: str, names: tuple[str, ...]
) -> PurePosixPath:
    """Reap orphans, then make run ``tag``'s directory ready for fresh ``names`` instances;
    return it as Asterisk sees it. Raises PbxStartError when run ``tag`` is running."""
    reap_orphans(cfg, runtime, tag)
    base = runs_dir(cfg, runtime) / tag
    run_dir = runtime.host_path(base)
    if (run_dir / "owner.json").exists():
        raise PbxStartError(
            f"a PBX run named '{tag}' is already running (see {run_dir}/owner.json): "
            "stop it first with 'phonebank pbx stop'"
        )
    for name in names:
        shutil.rmtree(run_dir / name, ignore_errors=True)
    private.run_dir(run_dir, runtime.gid)
    return base


def start_run(run: PbxRun, start_timeout: float, *, detached: bool) -> None:
    """Render and start every instance of ``run`` in order, recording each in owner.json.

    ``detached``: the run outlives this process (``phonebank pbx start``); otherwise a later
    run stops it if this process dies without stopping it. On failure everything started is
    stopped again. Raises PbxStartError.
    """
    try:
        for instance in run.instances:
            instance.render()
            instance.start(start_timeout)
            run.save_owner(None if detached else os.getpid())
    except BaseException:
        run.stop()
        if not detached:
            shutil.rmtree(run.run_dir, ignore_errors=True)
        raise


def load_run(cfg: PbxConfig, runtime: AsteriskRuntime, tag: str) -> PbxRun | None:
    """The run ``tag`` as recorded in its owner.json, or None when none is recorded."""
    run_dir = runtime.host_path(runs_dir(cfg, runtime) / tag)
    try:
        owner = json.loads((run_dir / "owner.json").read_text())
    except FileNotFoundError:
        return None
    instances = []
    for info in owner.pop("instances").values():
        instance = AsteriskInstance(InstanceSpec(**info["spec"]), runtime)
        instance.pid = info["pid"] if pid_alive(info["pid"]) else None
        instances.append(instance)
    owner.pop("owner_pid", None)
    owner.pop("owner_started", None)
    config = owner.pop("config", {})
    return PbxRun(tuple(instances), run_dir, config, owner)


def config_fingerprint(
    cfg: PbxConfig, real_trunk: TrunkConfig | None, instances: tuple[str, ...] = ("dialer",)
) -> dict[str, Any]:
    """The settings a run's configuration is rendered from (and which instances it has), as
    JSON values."""
    values = {k: v for k, v in dataclasses.asdict(cfg).items() if k != "start_timeout"}
    values["real_trunk"] = dataclasses.asdict(real_trunk) if real_trunk else None
    values["instances"] = list(instances)
    fingerprint: dict[str, Any] = json.loads(json.dumps(values, default=str))
    return fingerprint


def reap_orphans(cfg: PbxConfig, runtime: AsteriskRuntime, tag: str = "") -> None:
    """Stop Asterisk processes of runs whose owning process has died, and remove those runs.

    Another run is left alone while its owner's lease is fresh (owner.json touched within
    ORPHAN_GRACE_S: a supervised `phonebank run` renews it), so a crashed run restarted at
    once can re-attach to it (engine/pbx/adopt.py); run ``tag``'s own is always reaped."""
    parent = runtime.host_path(runs_dir(cfg, runtime))
    if not parent.is_dir():
        return
    for owner_file in parent.glob("*/owner.json"):
        with contextlib.suppress(ValueError, OSError, KeyError):
            owner = json.loads(owner_file.read_text())
            if owner["owner_pid"] is None or owner_alive(
                owner["owner_pid"], owner.get("owner_started")
            ):
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
