"""Where Asterisk runs from: a cached Debian sid rootfs (chroot) or an installed Asterisk.

The rootfs is built once with debootstrap under the cache directory and reused by every run;
it is rebuilt when missing or broken. A lock file makes sure two runs never build at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from engine.config import PbxConfig
from engine.errors import SetupError

log = logging.getLogger(__name__)

ROOTFS_PACKAGES = (
    "asterisk",
    "asterisk-core-sounds-en-gsm",
    "asterisk-moh-opsound-gsm",
)
"""What the rootfs holds: Asterisk 22 with its modules, the English prompts and hold music."""

ROOTFS_MARK = ".phonebank-rootfs"
"""Written last by a successful build; its content names the packages the build included."""

MIN_ASTERISK_MAJOR = 20


@dataclass(frozen=True)
class AsteriskRuntime:
    """How to run one Asterisk binary, and how its paths look from inside and outside."""

    root: Path
    """'/' for an installed Asterisk, the rootfs directory for a chroot."""
    binary: PurePosixPath
    chroot: bool
    uid: int
    gid: int

    def host_path(self, inner: PurePosixPath) -> Path:
        """The host path of a path as Asterisk sees it."""
        return self.root / inner.relative_to("/")

    def command(self, *args: str) -> list[str]:
        base = [str(self.binary), *args]
        return ["chroot", str(self.root), *base] if self.chroot else base

    def version(self) -> str:
        """Asterisk's version string, e.g. '22.10.1'. Raises SetupError when it does not run."""
        try:
            out = subprocess.run(
                self.command("-V"), capture_output=True, text=True, timeout=30, check=True
            ).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            raise SetupError(
                f"cannot run {self.binary} ({exc}): rebuild with 'phonebank pbx build'"
            ) from None
        match = re.search(r"Asterisk (\d+(?:\.\d+)*)", out)
        if not match:
            raise SetupError(f"{self.binary} -V printed {out.strip()!r}, not an Asterisk version")
        return match.group(1)


def rootfs_dir(cfg: PbxConfig) -> Path:
    return cfg.cache_dir / f"rootfs-{cfg.debian_suite}"


def ensure_runtime(cfg: PbxConfig) -> AsteriskRuntime:
    """Return a usable Asterisk runtime, building the rootfs first when it is missing or broken.

    Raises SetupError when debootstrap is missing, the build fails, or the configured host
    Asterisk is absent or older than version 20.
    """
    if cfg.asterisk == "host":
        return _host_runtime(cfg)
    root = rootfs_dir(cfg)
    if not _rootfs_ok(root):
        with _build_lock(cfg.cache_dir):
            if not _rootfs_ok(root):
                _build_rootfs(cfg, root)
    return _chroot_runtime(root)


def existing_runtime(cfg: PbxConfig) -> AsteriskRuntime | None:
    """The runtime if it is already there (no build), else None."""
    if cfg.asterisk == "host":
        return _host_runtime(cfg)
    root = rootfs_dir(cfg)
    return _chroot_runtime(root) if _rootfs_ok(root) else None


def _host_runtime(cfg: PbxConfig) -> AsteriskRuntime:
    binary = cfg.host_asterisk
    if not binary.exists():
        raise SetupError(
            f"pbx.asterisk is 'host' but {binary} does not exist: install Asterisk 20 or newer, "
            "set pbx.host_asterisk, or set pbx.asterisk = 'rootfs'"
        )
    uid, gid = _user_ids(Path("/etc/passwd"), "asterisk")
    runtime = AsteriskRuntime(Path("/"), PurePosixPath(binary), chroot=False, uid=uid, gid=gid)
    major = int(runtime.version().split(".")[0])
    if major < MIN_ASTERISK_MAJOR:
        raise SetupError(
            f"{binary} is Asterisk {major}, phonebank needs {MIN_ASTERISK_MAJOR} or newer: "
            "upgrade it or set pbx.asterisk = 'rootfs'"
        )
    return runtime


def _chroot_runtime(root: Path) -> AsteriskRuntime:
    uid, gid = _user_ids(root / "etc/passwd", "asterisk")
    return AsteriskRuntime(root, PurePosixPath("/usr/sbin/asterisk"), chroot=True, uid=uid, gid=gid)


def _user_ids(passwd: Path, user: str) -> tuple[int, int]:
    for line in passwd.read_text().splitlines():
        parts = line.split(":")
        if parts[0] == user:
            return int(parts[2]), int(parts[3])
    raise SetupError(f"no '{user}' user in {passwd}: is Asterisk installed there?")


def _rootfs_ok(root: Path) -> bool:
    mark = root / ROOTFS_MARK
    return (
        mark.is_file()
        and mark.read_text().strip() == " ".join(ROOTFS_PACKAGES)
        and (root / "usr/sbin/asterisk").is_file()
    )


@contextlib.contextmanager
def _build_lock(cache_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on cache_dir/rootfs.lock; the file is removed on release."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / "rootfs.lock"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            log.info("another run is building the Asterisk rootfs; waiting for it")
            fcntl.flock(fd, fcntl.LOCK_EX)
        # The holder before us may have unlinked the file: lock the current one instead.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _build_rootfs(cfg: PbxConfig, root: Path) -> None:
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise SetupError(
            f"the Asterisk rootfs {root} is missing and debootstrap is not installed: "
            "run 'apt-get install debootstrap' (make run/make test do this), "
            "or set pbx.asterisk = 'host' to use an installed Asterisk 20+"
        )
    tmp = root.with_name(root.name + ".building")
    _remove_tree(tmp)
    _remove_tree(root)
    cmd = [debootstrap, "--variant=minbase", "--include=" + ",".join(ROOTFS_PACKAGES)]
    cmd += [cfg.debian_suite, str(tmp)]
    if cfg.debootstrap_mirror:
        cmd.append(cfg.debootstrap_mirror)
    log.info("building the Asterisk rootfs in %s with debootstrap (about a minute)", root)
    started = time.monotonic()
    logfile = root.with_name(root.name + ".debootstrap.log")
    with logfile.open("w") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        tail = "\n".join(logfile.read_text(errors="replace").splitlines()[-15:])
        raise SetupError(
            f"debootstrap failed (exit {proc.returncode}); check the network to the Debian "
            f"mirror and see {logfile}:\n{tail}"
        )
    (tmp / ROOTFS_MARK).write_text(" ".join(ROOTFS_PACKAGES) + "\n")
    tmp.rename(root)
    log.info("Asterisk rootfs ready in %.0f s", time.monotonic() - started)


def _remove_tree(path: Path) -> None:
    """Delete a rootfs tree, refusing if something is mounted inside it."""
    if not path.exists():
        return
    prefix = str(path.resolve()) + "/"
    with open("/proc/mounts") as mounts:
        for line in mounts:
            mountpoint = line.split()[1]
            if mountpoint.startswith(prefix):
                raise SetupError(f"{mountpoint} is mounted inside {path}: unmount it first")
    shutil.rmtree(path)
