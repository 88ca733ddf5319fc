"""Re-attaching to a PBX pair that a previous `phonebank run` of the same ``pbx.name`` left
running when it died (kill -9, a crash): its volunteers' phone legs and live calls go on,
instead of being cut by a restart of Asterisk.

A pair is adopted only when its owner is dead, both Asterisk processes are ours and answer
ARI with the recorded credentials, and it was configured from the same settings (owner.json
keeps them); otherwise start_pair stops it and starts a fresh one, as before.
"""

from __future__ import annotations

import json
import logging
import os

from engine.config import PbxConfig, TrunkConfig
from engine.pbx.instance import pid_alive
from engine.pbx.pair import PbxPair, config_fingerprint, is_our_asterisk, load_pair, runs_dir
from engine.pbx.rootfs import existing_runtime

log = logging.getLogger(__name__)


def adopt_pair(cfg: PbxConfig, tag: str, real_trunk: TrunkConfig | None = None) -> PbxPair | None:
    """The healthy pair of run ``tag`` whose owner died, now owned by this process; None when
    there is none to adopt (start_pair then reaps whatever is left and starts afresh)."""
    real = real_trunk if real_trunk is not None and real_trunk.host else None
    runtime = existing_runtime(cfg)
    if runtime is None:
        return None
    owner_file = runtime.host_path(runs_dir(cfg, runtime) / tag) / "owner.json"
    try:
        owner_pid = json.loads(owner_file.read_text())["owner_pid"]
    except (OSError, ValueError, KeyError):
        return None
    if owner_pid is None or pid_alive(owner_pid):
        return None  # detached (`pbx start`) or still owned: not ours to take
    pair = load_pair(cfg, runtime, tag)
    if pair is None:
        return None
    if pair.config != config_fingerprint(cfg, real):
        log.warning("the PBX pair '%s' left running was configured differently: restarting it", tag)
        return None
    for instance in pair.instances:
        pid = instance.pid
        if pid is None or not is_our_asterisk(pid, instance.spec.base) or not instance.healthy():
            log.warning("the PBX pair '%s' left running is not healthy: restarting it", tag)
            return None
    pair.save_owner(os.getpid())
    log.warning(
        "re-attached to the PBX pair '%s' left running by a dead run (owner pid %d): "
        "dialer Asterisk pid %s, carrier pid %s; calls and phone legs carry on",
        tag,
        owner_pid,
        pair.dialer.pid,
        pair.carrier.pid,
    )
    return pair
