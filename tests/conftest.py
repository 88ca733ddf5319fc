"""Fixtures shared by all tiers: where artifacts go, and the real telephone test bed.

The PBX pair (a dialer PBX and a carrier simulator) is started once per session, only when a
test asks for it: the fixture builds whatever is missing (rootfs, voices) instead of skipping,
picks free ports, and stops both Asterisk processes at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from engine.ari.client import AriClient, AriSettings
from engine.config import load_config
from engine.errors import AriNotFound
from engine.pbx.instance import AsteriskInstance
from testbed.events import EventLog
from testbed.pair import PbxPair, start_pair

ARTIFACTS = Path(__file__).resolve().parents[1] / "build" / "test-artifacts"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def pbx_pair(artifacts: Path) -> Iterator[PbxPair]:
    cfg = load_config().pbx
    pair = start_pair(cfg, f"test-{os.getpid()}")
    try:
        yield pair
    finally:
        pair.stop()
        logs = artifacts / "pbx-logs" / os.environ.get("PYTEST_XDIST_WORKER", "main")
        for instance in pair.instances:
            target = logs / instance.spec.name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(instance.path("log"), target)
        shutil.rmtree(pair.run_dir, ignore_errors=True)


def ari_settings(instance: AsteriskInstance, app: str | None = None) -> AriSettings:
    spec = instance.spec
    return AriSettings(
        spec.ari_url, spec.ari_user, spec.ari_password, spec.ari_app if app is None else app
    )


@contextlib.asynccontextmanager
async def ari_with_events(instance: AsteriskInstance) -> AsyncIterator[tuple[AriClient, EventLog]]:
    async with AriClient.connect(ari_settings(instance)) as ari, EventLog.running(ari) as events:
        yield ari, events


@pytest.fixture(scope="session")
async def carrier(pbx_pair: PbxPair) -> AsyncIterator[tuple[AriClient, EventLog]]:
    """The carrier simulator's ARI client (app 'carrier') and its event log."""
    async with ari_with_events(pbx_pair.carrier) as pair:
        yield pair


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def dialer(pbx_pair: PbxPair) -> AsyncIterator[tuple[AriClient, EventLog]]:
    """The dialer PBX's ARI client (app 'phonebank', the engine's) and its event log.

    Module-scoped: Asterisk gives an app's events to one websocket only, so modules that run
    the engine (which is app 'phonebank' too) must not use this fixture."""
    async with ari_with_events(pbx_pair.dialer) as pair:
        yield pair


async def clear_pbx(pbx_pair: PbxPair) -> None:
    """Hang up every channel and destroy every bridge on both instances (per-test cleanup)."""
    for instance in pbx_pair.instances:
        if instance.pid is None:
            continue
        async with AriClient.connect(ari_settings(instance, app="")) as ari:
            for channel in await ari.list_channels():
                with contextlib.suppress(AriNotFound):
                    await ari.hangup(channel["id"])
            for bridge in await ari.list_bridges():
                with contextlib.suppress(AriNotFound):
                    await ari.destroy_bridge(bridge["id"])
