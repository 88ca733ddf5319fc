from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from engine.config import PbxConfig
from engine.errors import SetupError
from engine.pbx import rootfs


def test_missing_rootfs_without_debootstrap_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SetupError, match="apt-get install debootstrap"):
        rootfs.ensure_runtime(PbxConfig(cache_dir=tmp_path))
    assert not (tmp_path / "rootfs.lock").exists()


def test_host_asterisk_that_is_absent_says_what_to_do(tmp_path: Path) -> None:
    cfg = PbxConfig(asterisk="host", host_asterisk=tmp_path / "asterisk")
    with pytest.raises(SetupError, match="does not exist: install Asterisk 20 or newer"):
        rootfs.ensure_runtime(cfg)


def test_build_lock_lets_one_builder_at_a_time_and_is_removed(tmp_path: Path) -> None:
    inside: list[int] = []
    overlap = []

    def build(n: int) -> None:
        with rootfs._build_lock(tmp_path):
            overlap.append(len(inside))
            inside.append(n)
            time.sleep(0.05)
            inside.remove(n)

    threads = [threading.Thread(target=build, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlap == [0, 0, 0, 0]
    assert not (tmp_path / "rootfs.lock").exists()


def test_rootfs_without_its_completion_mark_counts_as_broken(tmp_path: Path) -> None:
    root = tmp_path / "rootfs-sid"
    (root / "usr/sbin").mkdir(parents=True)
    (root / "usr/sbin/asterisk").write_text("")
    assert not rootfs._rootfs_ok(root)
    (root / rootfs.ROOTFS_MARK).write_text(" ".join(rootfs.ROOTFS_PACKAGES))
    assert rootfs._rootfs_ok(root)


def test_removing_a_tree_with_a_mount_inside_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "rootfs"
    (root / "proc").mkdir(parents=True)
    mounts = tmp_path / "mounts"
    mounts.write_text(f"proc {root.resolve()}/proc proc rw 0 0\n")
    real_open = open
    monkeypatch.setattr(
        "builtins.open", lambda p, *a, **k: real_open(mounts if p == "/proc/mounts" else p, *a, **k)
    )
    with pytest.raises(SetupError, match="is mounted inside"):
        rootfs._remove_tree(root)
    assert Path(root / "proc").exists()
