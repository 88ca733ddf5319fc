"""podman as the deployment tests use it: the settings that work on these machines
(docker/podman/*.conf, passed by environment, /etc untouched), the base image imported from
the cached Asterisk rootfs, and the images of docker/ built with cached layers.

There is no container registry here: the Dockerfiles' ``FROM debian:sid-slim`` is satisfied
by importing the debootstrap rootfs under that exact name, and every build runs with
``--pull=never``, so the same Dockerfiles work unchanged where the image is pulled.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from engine.config import PbxConfig
from engine.pbx.rootfs import ensure_runtime, rootfs_dir

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
BASE_IMAGE = "docker.io/library/debian:sid-slim"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
APT_VALIDITY_KEYS = ("Acquire::Check-Valid-Until", "Acquire::Check-Date")


class ContainerError(RuntimeError):
    """A podman or podman-compose command failed."""


@dataclass(frozen=True)
class Image:
    name: str
    dockerfile: str
    target: str | None = None


IMAGES = (
    Image("phonebank-app:latest", "app.Dockerfile", "app"),
    Image("phonebank-proxy:latest", "proxy.Dockerfile"),
    Image("phonebank-turn:latest", "turn.Dockerfile"),
)


def podman_env() -> dict[str, str]:
    """The environment for podman and podman-compose: this repository's podman settings, and
    no PHONEBANK_* variables of the caller's (the stack's settings come from its env file)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHONEBANK_")}
    env["CONTAINERS_CONF"] = str(DOCKER / "podman" / "containers.conf")
    env["CONTAINERS_STORAGE_CONF"] = str(DOCKER / "podman" / "storage.conf")
    return env


def podman(*args: str, input: str | None = None, timeout: float = 120) -> str:
    """Run ``podman ARGS`` and return its output; raises ContainerError when it fails."""
    proc = subprocess.run(
        ["podman", *args],
        input=input,
        capture_output=True,
        text=True,
        env=podman_env(),
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise ContainerError(f"podman {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout


def image_exists(name: str) -> bool:
    exists = subprocess.run(["podman", "image", "exists", name], env=podman_env(), check=False)
    return exists.returncode == 0


def ensure_base_image(cfg: PbxConfig) -> bool:
    """Import the Asterisk rootfs (built first if missing) as BASE_IMAGE unless that tag
    exists; True when it was imported. The rootfs is only read: the run directories of PBX
    runs under it and the kernel's mount points are left out."""
    if image_exists(BASE_IMAGE):
        return False
    ensure_runtime(cfg)
    root = rootfs_dir(cfg)
    tar = subprocess.Popen(
        [
            "tar",
            "-C",
            str(root),
            "--exclude=./srv/phonebank",
            "--exclude=./proc/*",
            "--exclude=./sys/*",
            "--exclude=./tmp/*",
            "-c",
            ".",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        imported = subprocess.run(
            ["podman", "import", "-", BASE_IMAGE],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            env=podman_env(),
            check=False,
        )
    finally:
        assert tar.stdout is not None
        tar.stdout.close()
        tar.wait()
    if imported.returncode != 0:
        raise ContainerError(f"podman import of {root} failed: {imported.stderr}")
    return True


def host_build_flags(work: Path) -> list[str]:
    """Flags that lend a build this machine's way to the package registries, unchanged
    Dockerfiles: its CA bundle for pip (a TLS-inspecting proxy on the way) and apt's
    validity-check settings (a snapshot mirror whose Release files have expired)."""
    flags: list[str] = []
    if CA_BUNDLE.is_file():
        flags += [
            "-v",
            f"{CA_BUNDLE}:/run/host-ca.crt:ro",
            "--build-arg",
            "PIP_CERT=/run/host-ca.crt",
        ]
    dump = subprocess.run(["apt-config", "dump"], capture_output=True, text=True, check=False)
    lines = [
        line for line in dump.stdout.splitlines() if line.split(" ", 1)[0] in APT_VALIDITY_KEYS
    ]
    if lines:
        conf = work / "99host-apt"
        conf.write_text("\n".join(lines) + "\n")
        flags += ["-v", f"{conf}:/etc/apt/apt.conf.d/99host-apt:ro"]
    return flags


def build_image(image: Image, flags: list[str], log: Path) -> float:
    """Build ``image`` from docker/ (layers cached), printing its steps; the seconds taken.
    The whole output goes to ``log``. Raises ContainerError naming the log when it fails."""
    cmd = ["podman", "build", "--pull=never", "--layers", "-f", str(DOCKER / image.dockerfile)]
    cmd += ["-t", image.name, *flags]
    if image.target:
        cmd += ["--target", image.target]
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*cmd, str(ROOT)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=podman_env(),
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            if "STEP " in line:
                print(f"{image.name}: {line.strip()[:120]}", flush=True)
        proc.wait()
    took = time.monotonic() - started
    if proc.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-20:])
        raise ContainerError(f"building {image.name} failed (see {log}):\n{tail}")
    print(f"{image.name}: built in {took:.1f} s", flush=True)
    return took


def build_images(cfg: PbxConfig, work: Path) -> dict[str, float]:
    """The base image (imported when missing) and every image of IMAGES, built with cached
    layers; seconds per image (and for the import, under BASE_IMAGE)."""
    work.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    started = time.monotonic()
    if ensure_base_image(cfg):
        timings[BASE_IMAGE] = time.monotonic() - started
    flags = host_build_flags(work)
    for image in IMAGES:
        log = work / f"build-{image.name.split(':')[0]}.log"
        timings[image.name] = build_image(image, flags, log)
    return timings
