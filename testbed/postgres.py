"""A throwaway PostgreSQL server for tests (Debian's `postgresql`, issue 16): `initdb` into a
temporary directory and `pg_ctl start` on a free port, as an unprivileged user (the package's
`postgres` user when we are root; PostgreSQL refuses to run as root), then stopped and removed.

    with PostgresServer.start() as server:
        server.create_database("phonebank")
        ...  # server.dsn("phonebank"): postgresql://postgres@127.0.0.1:<port>/phonebank

Only local connections, trusted (no password): the server listens on 127.0.0.1 and a socket
in its own directory. Each pytest-xdist worker starts its own.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.errors import SetupError
from engine.pbx.ports import pick_port

log = logging.getLogger(__name__)

BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin"))
"""Where Debian puts initdb and pg_ctl (not on PATH for the package alone)."""
SERVER_USER = "postgres"
"""The system user the package creates, used when the tests run as root."""
START_SECONDS = 30
ATTEMPTS = 3
"""Tries with a fresh free port: another program may take the port between pick and start."""


def bin_dir() -> Path:
    """The directory holding initdb and pg_ctl. Raises SetupError if PostgreSQL is missing."""
    for candidate in BIN_DIRS:
        if (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise SetupError("PostgreSQL is not installed: run `make deps` (Debian package postgresql).")


def initdb_command(binaries: Path, data: Path) -> list[str]:
    return [
        str(binaries / "initdb"),
        "--pgdata",
        str(data),
        "--username",
        SERVER_USER,
        "--auth",
        "trust",
        "--encoding",
        "UTF8",
        "--locale",
        "C.UTF-8",
        "--no-sync",
    ]


def start_command(
    binaries: Path, data: Path, port: int, socket_dir: Path, log_file: Path
) -> list[str]:
    options = (
        f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1"
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    return [
        str(binaries / "pg_ctl"),
        "--pgdata",
        str(data),
        "--log",
        str(log_file),
        "--timeout",
        str(START_SECONDS),
        "-o",
        options,
        "-w",
        "start",
    ]


def stop_command(binaries: Path, data: Path) -> list[str]:
    return [str(binaries / "pg_ctl"), "--pgdata", str(data), "-m", "fast", "-w", "stop"]


def server_user() -> str | None:
    """The user to run the server as: None (ourselves) unless we are root."""
    return SERVER_USER if os.geteuid() == 0 else None


@dataclass
class PostgresServer:
    """One running server; ``stop()`` (or leaving ``start()``'s block) ends it."""

    root: Path
    port: int
    binaries: Path
    user: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    @classmethod
    @contextlib.contextmanager
    def start(cls) -> Iterator[PostgresServer]:
        """A new server in a temporary directory; stopped and the directory removed on exit.
        Raises SetupError with the server's log when it does not start."""
        server = cls.launch()
        try:
            yield server
        finally:
            server.stop()

    @classmethod
    def launch(cls) -> PostgresServer:
        """Like start(), for callers that stop() it themselves."""
        binaries, user = bin_dir(), server_user()
        root = Path(tempfile.mkdtemp(prefix="phonebank-pg-"))
        if user is not None:
            try:
                entry = pwd.getpwnam(user)
            except KeyError:
                shutil.rmtree(root, ignore_errors=True)
                raise SetupError(
                    f"There is no {user!r} user to run PostgreSQL as (it refuses root):"
                    " run `make deps` (Debian's postgresql package creates it)."
                ) from None
            os.chown(root, entry.pw_uid, entry.pw_gid)
        try:
            _run(initdb_command(binaries, root / "data"), user)
            for attempt in range(1, ATTEMPTS + 1):
                port = pick_port(socket.SOCK_STREAM, what="test PostgreSQL server")
                server = cls(root, port, binaries, user)
                try:
                    _run(
                        start_command(binaries, server.data, port, root, root / "server.log"), user
                    )
                except SetupError:
                    if attempt == ATTEMPTS:
                        raise
                    log.warning("PostgreSQL did not start on port %s; trying another", port)
                    continue
                log.info("PostgreSQL started in %s on port %s", root, port)
                return server
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        raise AssertionError("unreachable")

    def create_database(self, name: str) -> str:
        """Create an empty database; returns its DSN."""
        _run([str(self.binaries / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
              "-U", SERVER_USER, name], self.user)  # fmt: skip
        return self.dsn(name)

    def restart(self) -> None:
        """Stop the server (cutting every session) and start it again on the same port."""
        log_file = str(self.root / "server.log")  # not our pipe: run() would wait for its end
        command = [str(self.binaries / "pg_ctl"), "--pgdata", str(self.data), "--log", log_file]
        _run([*command, "-m", "fast", "-w", "restart"], self.user)

    def stop(self) -> None:
        """Stop the server (fast shutdown: sessions are cut; SIGKILL by its PID if pg_ctl
        fails) and remove its directory."""
        try:
            if (self.data / "postmaster.pid").exists():
                try:
                    _run(stop_command(self.binaries, self.data), self.user)
                except SetupError:
                    log.warning("pg_ctl stop failed; killing PostgreSQL in %s", self.root)
                    _kill(self.data / "postmaster.pid")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _kill(pid_file: Path) -> None:
    """SIGKILL the postmaster whose PID heads ``pid_file`` (its children exit with it)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)


def _run(command: Sequence[str], user: str | None) -> None:
    """Run a PostgreSQL program as ``user``. Raises SetupError with its output (and the
    server's log, if any) when it fails."""
    done = subprocess.run(command, user=user, capture_output=True, text=True, check=False, cwd="/")
    if done.returncode != 0:
        server_log = ""
        with contextlib.suppress(OSError, ValueError):
            index = list(command).index("--log")
            server_log = Path(command[index + 1]).read_text()[-2000:]
        raise SetupError(
            f"{Path(command[0]).name} failed (exit {done.returncode}): "
            f"{(done.stderr or done.stdout).strip()[-2000:]}\n{server_log}".rstrip()
        )
