"""Orphaned PBX runs: another run's pair is left alone while its owner's lease is fresh (so a
restarted `phonebank run` can re-attach to it); the run's own tag and stale leases are reaped."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import time
from pathlib import Path, PurePosixPath

import pytest

from engine.config import load_config
from engine.pbx.instance import AsteriskInstance, InstanceSpec, owner_alive, process_started
from engine.pbx.rootfs import AsteriskRuntime
from engine.pbx.run import ORPHAN_GRACE_S, PbxRun, config_fingerprint, load_run, reap_orphans


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _run(parent: Path, name: str, owner_pid: int, age: float) -> Path:
    run = parent / name
    run.mkdir(parents=True)
    owner = run / "owner.json"
    owner.write_text(json.dumps({"owner_pid": owner_pid, "instances": {}, "voices_dir": "/v"}))
    then = time.time() - age
    os.utime(owner, (then, then))
    return run


def test_a_fresh_orphan_of_another_run_is_kept_and_stale_or_own_ones_are_reaped(
    tmp_path: Path,
) -> None:
    cfg = dataclasses.replace(load_config(environ={}).pbx, asterisk="host", state_dir=tmp_path)
    runtime = AsteriskRuntime(Path("/"), PurePosixPath("/usr/sbin/asterisk"), False, 0, 0)
    parent = tmp_path / "run"
    dead = _dead_pid()
    leased = _run(parent, "other", dead, 1.0)
    stale = _run(parent, "stale", dead, ORPHAN_GRACE_S + 5)
    mine = _run(parent, "mine", dead, 1.0)
    owned = _run(parent, "owned", os.getpid(), ORPHAN_GRACE_S + 5)
    reap_orphans(cfg, runtime, "mine")
    assert leased.exists(), "a just-crashed run's pair was reaped before it could re-attach"
    assert not stale.exists()
    assert not mine.exists()
    assert owned.exists(), "a live run's pair was reaped"


def test_the_fingerprint_changes_with_what_the_pair_is_rendered_from() -> None:
    cfg = load_config(environ={}).pbx
    same = config_fingerprint(dataclasses.replace(cfg, start_timeout=99.0), None)
    assert same == config_fingerprint(cfg, None)
    assert config_fingerprint(dataclasses.replace(cfg, amd_args=",,1000"), None) != same
    assert config_fingerprint(dataclasses.replace(cfg, callin_number="+15550000"), None) != same
    assert json.loads(json.dumps(same)) == same


def test_a_run_is_recorded_and_loaded_back_with_its_instances_and_notes(tmp_path: Path) -> None:
    """owner.json keeps every instance of a run (one for production, two for the test bed)
    and what its starter noted, so `phonebank pbx status|stop` find them whoever started it."""
    cfg = dataclasses.replace(load_config(environ={}).pbx, asterisk="host", state_dir=tmp_path)
    runtime = AsteriskRuntime(Path("/"), PurePosixPath("/usr/sbin/asterisk"), False, 0, 0)
    run_dir = tmp_path / "run" / "mine"
    run_dir.mkdir(parents=True)
    instances = []
    for name in ("dialer", "carrier"):
        instance = AsteriskInstance(
            InstanceSpec(name, name, str(run_dir / name), 5060, 8088, 10000, 10999, "u", "p", "a"),
            runtime,
        )
        instance.pid = os.getpid()
        instances.append(instance)
    fingerprint = config_fingerprint(cfg, None, ("dialer", "carrier"))
    PbxRun(tuple(instances), run_dir, fingerprint, {"voices_dir": "/v"}).save_owner(None)
    loaded = load_run(cfg, runtime, "mine")
    assert loaded is not None
    assert [i.spec.name for i in loaded.instances] == ["dialer", "carrier"]
    assert loaded.dialer.spec == instances[0].spec and loaded.dialer.pid == os.getpid()
    assert loaded.config == fingerprint and loaded.notes == {"voices_dir": "/v"}
    assert fingerprint != config_fingerprint(cfg, None), "a pair was taken for a dialer alone"
    with pytest.raises(KeyError):
        PbxRun((instances[0],), run_dir, {}, {}).instance("carrier")


def test_an_owner_pid_reused_by_another_process_counts_as_dead(tmp_path: Path) -> None:
    """In a container every new `phonebank run` is PID 1 again: a run recorded with the same
    PID but another start time was owned by a dead process and is reaped, not 'still running'."""
    cfg = dataclasses.replace(load_config(environ={}).pbx, asterisk="host", state_dir=tmp_path)
    runtime = AsteriskRuntime(Path("/"), PurePosixPath("/usr/sbin/asterisk"), False, 0, 0)
    parent = tmp_path / "run"
    reused = _run(parent, "reused", os.getpid(), ORPHAN_GRACE_S + 5)
    live = _run(parent, "live", os.getpid(), ORPHAN_GRACE_S + 5)
    started = process_started(os.getpid())
    assert started is not None
    for run, recorded in ((reused, started - 1), (live, started)):
        owner = json.loads((run / "owner.json").read_text())
        (run / "owner.json").write_text(json.dumps({**owner, "owner_started": recorded}))
        then = time.time() - ORPHAN_GRACE_S - 5
        os.utime(run / "owner.json", (then, then))
    reap_orphans(cfg, runtime, "")
    assert not reused.exists(), "a run owned by a reused PID was taken for a live one"
    assert live.exists(), "the live owner's run was reaped"
    assert owner_alive(os.getpid(), started) and not owner_alive(os.getpid(), started - 1)
