"""The PBX pair of the test bed: the dialer PBX and the carrier simulator, joined by a trunk.

``start_pair`` builds what is missing (rootfs, voices), picks free ports, generates ARI
credentials, renders both configurations and starts both instances as one run
(engine/pbx/run.py): the product's dialer PBX (engine/pbx/dialer.py) linked to the simulator
(testbed/carrier.py). Tests, benches and `python -m testbed run` use it; production never does.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from engine.config import PbxConfig, TrunkConfig
from engine.errors import PbxStartError
from engine.pbx.adopt import adopt_run
from engine.pbx.dialer import dialer_instance, pick_dialer_ports, real_trunk_of
from engine.pbx.instance import AsteriskInstance
from engine.pbx.rootfs import AsteriskRuntime, ensure_runtime
from engine.pbx.run import PbxRun, config_fingerprint, load_run, open_run_dir, start_run
from testbed.carrier import carrier_instance, link_to, pick_carrier_ports
from testbed.hard_voices import ensure_hard_voices
from testbed.hard_voices import recipe_hash as hard_recipe_hash
from testbed.voices import ensure_voices, load_manifest

RECIPE = Path(__file__).resolve().parents[1] / "data" / "voices.toml"
HARD_RECIPE = RECIPE.with_name("voices-hard.toml")
"""The harder answering-machine evaluation set (issue 17), built beside the voices."""
INSTANCES = ("dialer", "carrier")


@dataclass
class PbxPair(PbxRun):
    """A run of the dialer PBX and the carrier simulator, with the simulator's voices."""

    voices: dict[str, Any]
    """The voices manifest: counts, texts and durations."""
    hard_voices: dict[str, Any] = field(default_factory=dict)
    """The harder AMD set's manifest (behaviour 50's clip VV is its files[VV]); empty for a run
    started before the carrier played it."""

    @property
    def carrier(self) -> AsteriskInstance:
        return self.instance("carrier")

    @property
    def voices_dir(self) -> PurePosixPath:
        """Where the synthetic voices are, as Asterisk sees it (for sound: URIs and Playback)."""
        return PurePosixPath(self.notes["voices_dir"])

    def voice(self, kind: str, index: int) -> str:
        """The media URI of one synthetic voice file, for ARI play."""
        return f"sound:{self.voices_dir}/{kind}-{index % self.voices['counts'][kind]}"

    @classmethod
    def of(cls, run: PbxRun) -> PbxPair:
        """The pair a loaded or adopted run is (raises KeyError when it has no simulator)."""
        run.instance("carrier")
        runtime = run.dialer.runtime
        manifest = load_manifest(runtime.host_path(PurePosixPath(run.notes["voices_dir"])))
        hard = run.notes.get("hard_voices_dir")
        hard_host = runtime.host_path(PurePosixPath(hard)) if hard else None
        hard_manifest = (
            load_manifest(hard_host)
            if hard_host is not None and (hard_host / "manifest.json").is_file()
            else {}
        )
        return cls(run.instances, run.run_dir, run.config, run.notes, manifest, hard_manifest)


def voices_parent(cfg: PbxConfig, runtime: AsteriskRuntime) -> PurePosixPath:
    return (
        PurePosixPath("/srv/phonebank/voices")
        if runtime.chroot
        else PurePosixPath(cfg.cache_dir / "voices")
    )


def hard_voices_dir(cfg: PbxConfig, runtime: AsteriskRuntime) -> PurePosixPath:
    """Where the harder AMD set is, as Asterisk sees it (``<voices parent>/<recipe hash>``)."""
    return voices_parent(cfg, runtime) / hard_recipe_hash(HARD_RECIPE)


def prepare(cfg: PbxConfig) -> tuple[AsteriskRuntime, Path]:
    """Build or reuse the rootfs, the voices and the harder AMD set; return the runtime and the
    voices' host path (the harder set is beside it: ``hard_voices_dir``)."""
    runtime = ensure_runtime(cfg)
    voices = ensure_voices(RECIPE, runtime.host_path(voices_parent(cfg, runtime)))
    ensure_hard_voices(HARD_RECIPE, runtime.host_path(voices_parent(cfg, runtime)))
    return runtime, voices


def fingerprint(cfg: PbxConfig, real_trunk: TrunkConfig | None) -> dict[str, Any]:
    return config_fingerprint(cfg, real_trunk_of(real_trunk), INSTANCES)


def start_pair(
    cfg: PbxConfig, tag: str, *, detached: bool = False, real_trunk: TrunkConfig | None = None
) -> PbxPair:
    """Start the dialer PBX and the carrier simulator for run ``tag``.

    ``detached``: the run outlives this process (``python -m testbed start``). ``real_trunk``:
    also give the dialer PBX an endpoint 'trunk' to a real carrier (when its host is set).
    Raises SetupError or PbxStartError.
    """
    real = real_trunk_of(real_trunk)
    runtime, voices_host = prepare(cfg)
    base = open_run_dir(cfg, runtime, tag, INSTANCES)
    voices_dir = voices_parent(cfg, runtime) / voices_host.name
    manifest = load_manifest(voices_host)
    hard_dir = hard_voices_dir(cfg, runtime)
    hard_manifest = load_manifest(runtime.host_path(hard_dir))
    carrier_ports = pick_carrier_ports(cfg)
    dialer_ports = pick_dialer_ports(cfg, {carrier_ports.sip, carrier_ports.http})
    ports = {dialer_ports.sip, dialer_ports.http, carrier_ports.sip, carrier_ports.http}
    if len(ports) < 4:
        raise PbxStartError("two PBX ports are configured to the same number: make them differ")
    used = ports | set(range(dialer_ports.rtp[0], dialer_ports.rtp[1] + 1))
    dialer = dialer_instance(cfg, runtime, base, dialer_ports, real, link_to(carrier_ports))
    carrier = carrier_instance(
        runtime,
        base,
        carrier_ports,
        used,
        dialer_ports.sip,
        (voices_dir, manifest),
        (hard_dir, hard_manifest),
    )
    notes = {"voices_dir": str(voices_dir), "hard_voices_dir": str(hard_dir)}
    pair = PbxPair(
        (dialer, carrier),
        runtime.host_path(base),
        fingerprint(cfg, real),
        notes,
        manifest,
        hard_manifest,
    )
    start_run(pair, cfg.start_timeout, detached=detached)
    return pair


def load_pair(cfg: PbxConfig, runtime: AsteriskRuntime, tag: str) -> PbxPair | None:
    """The pair of run ``tag`` as recorded in its owner.json, or None when none is recorded."""
    run = load_run(cfg, runtime, tag)
    return None if run is None else PbxPair.of(run)


def adopt_pair(cfg: PbxConfig, tag: str, real_trunk: TrunkConfig | None = None) -> PbxPair | None:
    """The healthy pair of run ``tag`` whose owner died, now ours (engine/pbx/adopt.py)."""
    run = adopt_run(cfg, tag, fingerprint(cfg, real_trunk))
    return None if run is None else PbxPair.of(run)


@contextlib.contextmanager
def running_pair(
    cfg: PbxConfig, tag: str, real_trunk: TrunkConfig | None = None
) -> Iterator[PbxPair]:
    """A throwaway pair (benches, tests): stopped and its run directory removed on exit."""
    pair = start_pair(cfg, tag, real_trunk=real_trunk)
    try:
        yield pair
    finally:
        pair.stop()
        shutil.rmtree(pair.run_dir, ignore_errors=True)
