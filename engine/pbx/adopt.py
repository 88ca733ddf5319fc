"""Re-attaching to a PBX run that a previous `phonebank run` of the same ``pbx.name`` left
running when it died (kill -9, a crash): its volunteers' phone legs and live calls go on,
instead of being cut by a restart of Asterisk.

A run is adopted only when its owner is dead, every Asterisk process of it is ours and
answers ARI with the recorded credentials, and it was configured from the same settings
(owner.json keeps them); otherwise the caller starts a fresh one, which reaps what is left.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from engine.config import PbxConfig
from engine.pbx.instance import owner_alive
from engine.pbx.rootfs import existing_runtime
from engine.pbx.run import PbxRun, is_our_asterisk, load_run, runs_dir

log = logging.getLogger(__name__)


def adopt_run(cfg: PbxConfig, tag: str, fingerprint: dict[str, Any]) -> PbxRun | None:
    """The healthy run ``tag`` whose owner died, configured as ``fingerprint`` says
    (config_fingerprint), now owned by this process; None when there is none to adopt."""
    runtime = existing_runtime(cfg)
    if runtime is None:
        return None
    owner_file = runtime.host_path(runs_dir(cfg, runtime) / tag) / "owner.json"
    try:
        owner = json.loads(owner_file.read_text())
        owner_pid = owner["owner_pid"]
    except (OSError, ValueError, KeyError):
        return None
    if owner_pid is None or owner_alive(owner_pid, owner.get("owner_started")):
        return None  # detached (`pbx start`) or still owned: not ours to take
    run = load_run(cfg, runtime, tag)
    if run is None:
        return None
    if run.config != fingerprint:
        log.warning("the PBX run '%s' left running was configured differently: restarting it", tag)
        return None
    for instance in run.instances:
        pid = instance.pid
        if pid is None or not is_our_asterisk(pid, instance.spec.base) or not instance.healthy():
            log.warning("the PBX run '%s' left running is not healthy: restarting it", tag)
            return None
    run.save_owner(os.getpid())
    log.warning(
        "re-attached to the PBX run '%s' left running by a dead run (owner pid %d): %s; "
        "calls and phone legs carry on",
        tag,
        owner_pid,
        ", ".join(f"{i.spec.name} Asterisk pid {i.pid}" for i in run.instances),
    )
    return run
