"""A real `phonebank run` (or `python -m testbed run`, what `make run` runs) as a subprocess,
stopped by PID whatever happens."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from engine.config import Config
from engine.pbx.instance import pid_alive, stop_pid
from engine.pbx.rootfs import existing_runtime
from engine.pbx.run import PbxRun, load_run, runs_dir
from tests.helpers import wait_until

PHONEBANK_RUN = [sys.executable, "-m", "phonebank.cli", "run"]
TESTBED_RUN = [sys.executable, "-m", "testbed", "run"]
RUNNING = "phonebank is running"


class Run:
    """One run subprocess writing to ``log``."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def url(self) -> str:
        """The web app's URL, once the run says it is running."""

        def started() -> str | None:
            if self.proc.poll() is not None:
                raise AssertionError(f"phonebank run exited:\n{self.log.read_text()[-3000:]}")
            text = self.log.read_text(errors="replace")
            found = re.findall(r"web app and API at (\S+)", text)
            return found[-1] if found and RUNNING in text.rsplit("web app and API", 1)[-1] else None

        url: str = await wait_until(started, 90, "phonebank run to start", 0.2)
        return url

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def run_env(tmp_path: Path, name: str, **settings: str) -> dict[str, str]:
    """The environment of a run of its own: PBX name, state directory, database, a free web
    port, and ``settings`` (PHONEBANK_* variables)."""
    return {
        **os.environ,
        "PHONEBANK_PBX_NAME": f"test-{name}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
        "PHONEBANK_ENGINE_DATABASE": str(tmp_path / "run.db"),
        "PHONEBANK_WEB_PORT": "0",
        "PHONEBANK_PBX_STATE_DIR": str(tmp_path / "state"),
        **settings,
    }


def recorded_run(cfg: Config) -> PbxRun | None:
    """The PBX run of ``cfg``'s pbx.name as its owner.json records it."""
    runtime = existing_runtime(cfg.pbx)
    return None if runtime is None else load_run(cfg.pbx, runtime, cfg.pbx.name)


def stop_left_behind(cfg: Config) -> None:
    """Stop by PID whatever Asterisk processes a run of ``cfg`` left, and remove its directory."""
    run = recorded_run(cfg)
    if run is not None:
        for instance in run.instances:
            if instance.pid is not None and pid_alive(instance.pid):
                stop_pid(instance.pid, 10)
    runtime = existing_runtime(cfg.pbx)
    if runtime is not None:
        shutil.rmtree(
            runtime.host_path(runs_dir(cfg.pbx, runtime) / cfg.pbx.name), ignore_errors=True
        )


def asterisk_processes_under(path: str) -> list[int]:
    """PIDs of the Asterisk processes whose command line names ``path``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            text = cmdline.read_bytes().decode(errors="replace")
            if "asterisk" in text and path in text:
                found.append(int(cmdline.parent.name))
    return found
