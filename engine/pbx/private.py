"""Run directories and rendered configuration hold secrets (ARI, trunk and softphone
passwords): other local users must not read them.

Asterisk (as the chroot's ``asterisk`` user) owns its instance directories and files, mode
0700/0600; the run directory above them stays root's, with the ``asterisk`` group allowed to
pass through (0750) and nobody else.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR = 0o700
RUN_DIR = 0o750
PRIVATE_FILE = 0o600


def private_dir(path: Path, uid: int, gid: int) -> None:
    """Create ``path`` (and missing parents) and make it ``uid``'s alone."""
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, uid, gid)
    path.chmod(PRIVATE_DIR)


def run_dir(path: Path, gid: int) -> None:
    """Create a run directory that group ``gid`` (Asterisk's) may enter and others may not."""
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, -1, gid)
    path.chmod(RUN_DIR)


def write_private(path: Path, text: str, uid: int = -1, gid: int = -1) -> None:
    """Write ``text`` to ``path``, readable by its owner (``uid``, default: us) only. The file
    is never readable by others, not even for a moment."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        os.fchown(fd, uid, gid)
        os.write(fd, text.encode())
    finally:
        os.close(fd)
