"""Whether a phonebank process has a database file open: an advisory lock on ``<db>.lock``.

Every store opened on a file holds a shared lock (flock) on ``<db>.lock`` until it closes, and
the kernel drops it when the process ends, so it never goes stale. `phonebank restore` takes
it exclusively: it is refused while any phonebank process (``phonebank run``, an import) has
the database open, and nothing opens the database while a restore replaces it. The lock is on
a file of its own: a descriptor opened and closed on the database file itself would drop
SQLite's own POSIX locks.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from engine.errors import SetupError


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


class DatabaseHold:
    """One lock on a database's lock file, until release()."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def shared(cls, database: Path) -> DatabaseHold:
        """Hold the database open. Raises SetupError while a restore is replacing it."""
        fd = _open(database)
        if not _lock(fd, fcntl.LOCK_SH):
            raise SetupError(
                f"The database {str(database)!r} is being replaced by 'phonebank restore':"
                " start phonebank again once the restore has finished."
            )
        return cls(fd)

    @classmethod
    def exclusive(cls, database: Path) -> DatabaseHold:
        """Hold the database alone. Raises SetupError while a phonebank process has it open."""
        fd = _open(database)
        if not _lock(fd, fcntl.LOCK_EX):
            raise SetupError(
                f"phonebank is running on the database {str(database)!r} (or another phonebank"
                " command has it open): stop it first, then restore."
            )
        return cls(fd)

    def release(self) -> None:
        """Drop the lock. Idempotent."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases its flock
            self._fd = None


def _open(database: Path) -> int:
    """The lock file, read-only (flock needs no more), made 0600 and given the database's
    owner when it is created here: a `phonebank restore` run as root must not leave a lock
    file the phonebank user cannot open."""
    path = lock_path(database)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    with contextlib.suppress(FileNotFoundError, PermissionError):
        owner = database.stat()
        os.fchown(fd, owner.st_uid, owner.st_gid)
    return fd


def _lock(fd: int, kind: int) -> bool:
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    return True
